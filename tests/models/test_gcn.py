"""GCN module (Fig. 2B): structure, linearity and Table 2 parameter counts."""
import pytest
import torch

import mmseg_gcn  # noqa: F401  (registers the models)
from mmseg.registry import MODELS
from mmseg_gcn.models import GCN
from mmseg_gcn.paper_numbers import TABLE2_GCN_PARAMS


def num_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# Table 2 of the paper: C_in = 2048, 21 classes, weights only.
@pytest.mark.parametrize('k, expected', sorted(TABLE2_GCN_PARAMS.items()))
def test_param_count_matches_paper(k, expected):
    gcn = GCN(2048, 21, kernel_size=k, bias=False)
    assert num_params(gcn) == expected
    # biases add one per output channel in each of the four convs
    assert num_params(GCN(2048, 21, kernel_size=k)) == expected + 4 * 21


def test_structure_is_two_separable_branches_without_bn_or_relu():
    gcn = GCN(8, 3, kernel_size=7, bias=False)
    convs = [m for m in gcn.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 4
    assert [c.kernel_size for c in convs] == [(7, 1), (1, 7), (1, 7), (7, 1)]
    assert [c.padding for c in convs] == [(3, 0), (0, 3), (0, 3), (3, 0)]
    assert [(c.in_channels, c.out_channels)
            for c in convs] == [(8, 3), (3, 3), (8, 3), (3, 3)]
    leaf_types = {
        type(m) for m in gcn.modules() if not list(m.children())
    }
    assert leaf_types == {torch.nn.Conv2d}


@pytest.mark.parametrize('size', [(16, 16), (15, 9), (1, 1)])
def test_keeps_spatial_size(size):
    gcn = GCN(4, 5, kernel_size=15)
    assert gcn(torch.rand(2, 4, *size)).shape == (2, 5, *size)


def test_is_linear_without_bias_and_affine_with_bias():
    torch.manual_seed(0)
    a, b = torch.randn(2, 6, 11, 13), torch.randn(2, 6, 11, 13)
    gcn = GCN(6, 4, kernel_size=5, bias=False)
    torch.testing.assert_close(gcn(a + b), gcn(a) + gcn(b))
    torch.testing.assert_close(gcn(-3.0 * a), -3.0 * gcn(a))
    # negative outputs pass through: no ReLU anywhere
    assert (gcn(a) < 0).any()
    affine = GCN(6, 4, kernel_size=5, bias=True)
    for m in affine.modules():
        if isinstance(m, torch.nn.Conv2d):
            torch.nn.init.normal_(m.bias)
    zero = torch.zeros_like(a)
    torch.testing.assert_close(
        affine(a + b) - affine(b), affine(a) - affine(zero))
    assert affine(zero).abs().sum() > 0  # the biases are on


def test_receptive_field_is_the_full_k_by_k_square():
    """k x 1 followed by 1 x k (and the reverse) connects every pixel of a
    k x k window to the output: a dense large kernel."""
    torch.manual_seed(0)
    k = 7
    gcn = GCN(2, 1, kernel_size=k, bias=False)
    x = torch.randn(1, 2, 21, 21, requires_grad=True)
    gcn(x)[0, 0, 10, 10].backward()
    support = x.grad.abs().sum(1)[0] > 0
    expected = torch.zeros(21, 21, dtype=torch.bool)
    expected[10 - k // 2:10 + k // 2 + 1, 10 - k // 2:10 + k // 2 + 1] = True
    assert torch.equal(support, expected)


def test_registered_in_mmseg():
    gcn = MODELS.build(dict(type='GCN', in_channels=16, out_channels=21,
                            kernel_size=9, bias=False))
    assert isinstance(gcn, GCN)
    assert num_params(gcn) == 2 * 9 * 21 * (16 + 21)


@pytest.mark.parametrize('k', [4, 1, 0, -3, 2.0, True])
def test_bad_kernel_size(k):
    with pytest.raises(ValueError, match=r'kernel_size must be an odd '
                       r'integer >= 3'):
        GCN(8, 3, kernel_size=k)


@pytest.mark.parametrize('channels_last', [False, True])
def test_training_form_has_the_maths_of_the_direct_form(channels_last):
    # With gradients on, the right branch runs on the H/W-swapped map; the
    # output and every gradient equal the direct two-branch formula.
    torch.manual_seed(0)
    gcn = GCN(6, 4, kernel_size=5)
    x = torch.randn(2, 6, 9, 13)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    x.requires_grad_()
    out = gcn(x)
    grad = torch.randn_like(out)
    out.backward(grad)
    got = [x.grad] + [p.grad for p in gcn.parameters()]

    x_ref = x.detach().clone().requires_grad_()
    params = [p.detach().clone().requires_grad_() for p in gcn.parameters()]
    by_name = dict(zip([n for n, _ in gcn.named_parameters()], params))

    def conv(name, inp, padding):
        return torch.nn.functional.conv2d(
            inp, by_name[f'{name}.conv.weight'], by_name[f'{name}.conv.bias'],
            padding=padding)

    ref = (conv('conv_l2', conv('conv_l1', x_ref, (2, 0)), (0, 2)) +
           conv('conv_r2', conv('conv_r1', x_ref, (0, 2)), (2, 0)))
    ref.backward(grad)
    torch.testing.assert_close(out, ref)
    # (float sums in another order)
    for a, b in zip(got, [x_ref.grad] + [p.grad for p in params]):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)
    with torch.no_grad():
        torch.testing.assert_close(gcn(x), ref)


def test_trains_in_bf16_on_channels_last_weights_without_onednn():
    # torch's bf16 convolution without oneDNN (as on a CPU without AVX-512)
    # cannot return the gradient of a transposed channels-last weight; the
    # training form's right branch must not hand it one.
    torch.manual_seed(0)
    gcn = GCN(6, 4, kernel_size=5).to(memory_format=torch.channels_last)
    x = torch.randn(2, 6, 9, 13).contiguous(memory_format=torch.channels_last)
    with torch.backends.mkldnn.flags(enabled=False), \
            torch.autocast('cpu', dtype=torch.bfloat16):
        out = gcn(x)
    out.float().sum().backward()
    assert out.dtype == torch.bfloat16
    for name, p in gcn.named_parameters():
        assert p.grad is not None and p.grad.dtype == torch.float32, name
        assert torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, name


@pytest.mark.parametrize('kernel_size, bias', [(5, True), (15, False)])
def test_inference_form_has_the_maths_of_the_direct_form(kernel_size, bias):
    # Without gradients on a channels-last map, the first conv of each
    # branch is one matrix product over all taps; equal to the direct form.
    torch.manual_seed(0)
    gcn = GCN(6, 4, kernel_size=kernel_size, bias=bias)
    if bias:
        for p in gcn.parameters():
            if p.dim() == 1:
                torch.nn.init.normal_(p)
    x = torch.randn(2, 6, 9, 13).contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        got = gcn(x)
        expected = gcn.paper_forward(x.contiguous())
    assert got.shape == (2, 4, 9, 13)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
