"""Per-level classifiers of the ablations (Fig. 4, Tables 2-4)."""
import pytest
import torch

import mmseg_gcn  # noqa: F401
from mmseg_gcn.models import GCN, StackClassifier, build_classifier
from mmseg_gcn.paper_numbers import (TABLE2_CONV_PARAMS, TABLE2_GCN_PARAMS,
                                     TABLE4_STACK_PARAMS)


def num_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def build_on_meta(*args, **kwargs) -> torch.nn.Module:
    """Counts do not need real storage (the 2048-wide stack has 76M)."""
    with torch.device('meta'):
        return build_classifier(*args, **kwargs)


# Table 2 "Conv": one k x k conv 2048 -> 21, weights only.
@pytest.mark.parametrize('k, expected', sorted(TABLE2_CONV_PARAMS.items()))
def test_conv_param_count_matches_paper(k, expected):
    conv = build_on_meta('conv', 2048, 21, k, bias=False)
    assert num_params(conv) == expected
    assert num_params(build_on_meta('conv', 2048, 21, k)) == expected + 21


# Table 4 "Stack" at k = 7: three linear 3x3 convs of width m.
@pytest.mark.parametrize('m, expected', sorted(TABLE4_STACK_PARAMS.items()))
def test_stack_param_count_matches_paper(m, expected):
    stack = build_on_meta('stack', 2048, 21, 7, bias=False, stack_channels=m)
    assert isinstance(stack, StackClassifier)
    assert num_params(stack) == expected
    convs = [x for x in stack.modules() if isinstance(x, torch.nn.Conv2d)]
    assert len(convs) == 3
    assert [(c.in_channels, c.out_channels)
            for c in convs] == [(2048, m), (m, m), (m, 21)]


def test_stack_default_width_is_input_channels():
    stack = build_on_meta('stack', 2048, 21, 7, bias=False)
    assert num_params(stack) == TABLE4_STACK_PARAMS[2048]


def test_gcn_and_1x1_counts():
    gcn = build_on_meta('gcn', 2048, 21, 7, bias=False)
    assert isinstance(gcn, GCN)
    assert num_params(gcn) == TABLE2_GCN_PARAMS[7]
    assert num_params(build_on_meta('1x1', 2048, 21, bias=False)) == 43_008
    # the 1x1 baseline ignores kernel_size
    assert num_params(build_on_meta('1x1', 2048, 21, 4)) == 43_008 + 21


@pytest.mark.parametrize('k, layers', [(3, 1), (5, 2), (9, 4), (11, 5)])
def test_stack_depth_and_receptive_field(k, layers):
    torch.manual_seed(0)
    stack = build_classifier('stack', 2, 1, k, bias=False, stack_channels=3)
    convs = [x for x in stack.modules() if isinstance(x, torch.nn.Conv2d)]
    assert len(convs) == layers
    assert all(c.kernel_size == (3, 3) for c in convs)
    x = torch.randn(1, 2, 25, 25, requires_grad=True)
    stack(x)[0, 0, 12, 12].backward()
    rows = (x.grad.abs().sum((0, 1, 3)) > 0).nonzero().flatten()
    assert (rows.min().item(), rows.max().item()) == (12 - k // 2,
                                                      12 + k // 2)


def test_stack_has_no_nonlinearity():
    torch.manual_seed(0)
    stack = build_classifier('stack', 4, 3, 7, bias=False, stack_channels=5)
    a, b = torch.randn(2, 4, 9, 9), torch.randn(2, 4, 9, 9)
    torch.testing.assert_close(stack(a + b), stack(a) + stack(b))
    leaf_types = {type(m) for m in stack.modules() if not list(m.children())}
    assert leaf_types == {torch.nn.Conv2d}


@pytest.mark.parametrize('kind', ['gcn', 'conv', 'stack', '1x1'])
def test_output_shape(kind):
    clf = build_classifier(kind, 8, 21, 5)
    assert clf(torch.rand(2, 8, 13, 7)).shape == (2, 21, 13, 7)


def test_unknown_classifier():
    with pytest.raises(ValueError, match=r"classifier must be one of .*"
                       r"got 'large'"):
        build_classifier('large', 8, 21, 5)


@pytest.mark.parametrize('kind', ['conv', 'stack'])
def test_bad_kernel_size(kind):
    with pytest.raises(ValueError, match='kernel_size must be an odd'):
        build_classifier(kind, 8, 21, 6)


def test_bad_stack_channels():
    with pytest.raises(ValueError, match='stack_channels must be a positive'):
        build_classifier('stack', 8, 21, 5, stack_channels=0)
