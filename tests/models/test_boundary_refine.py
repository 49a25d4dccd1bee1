"""Boundary Refinement (Fig. 2C): x + conv3x3(ReLU(conv3x3(x)))."""
import torch
import torch.nn.functional as F

import mmseg_gcn  # noqa: F401
from mmseg.registry import MODELS
from mmseg_gcn.models import BoundaryRefine


def num_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_param_count():
    assert num_params(BoundaryRefine(21, bias=False)) == 2 * 9 * 21 * 21
    assert num_params(BoundaryRefine(21)) == 2 * 9 * 21 * 21 + 2 * 21
    assert [m for m in BoundaryRefine(21).modules()
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)] == []


def test_zeroed_last_conv_is_identity():
    br = BoundaryRefine(5)
    torch.nn.init.zeros_(br.conv2.conv.weight)
    torch.nn.init.zeros_(br.conv2.conv.bias)
    x = torch.randn(2, 5, 9, 7)
    assert torch.equal(br(x), x)


def test_matches_formula():
    torch.manual_seed(0)
    br = BoundaryRefine(4)
    for m in br.modules():
        if isinstance(m, torch.nn.Conv2d):
            torch.nn.init.normal_(m.bias)
    x = torch.randn(3, 4, 10, 12)
    c1, c2 = br.conv1.conv, br.conv2.conv
    expected = x + F.conv2d(
        F.relu(F.conv2d(x, c1.weight, c1.bias, padding=1)), c2.weight,
        c2.bias, padding=1)
    out = br(x)
    torch.testing.assert_close(out, expected)
    assert out.shape == x.shape
    # no ReLU after the sum: negative scores survive
    assert (out < 0).any()


def test_does_not_modify_its_input():
    br = BoundaryRefine(3)
    x = torch.randn(1, 3, 6, 6)
    x_copy = x.clone()
    br(x)
    assert torch.equal(x, x_copy)


def test_registered_in_mmseg():
    br = MODELS.build(dict(type='BoundaryRefine', channels=21, bias=False))
    assert isinstance(br, BoundaryRefine)
    assert num_params(br) == 7938
