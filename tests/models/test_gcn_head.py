"""GCNHead: the decoder of Fig. 2A and its ablation switches."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmseg_gcn  # noqa: F401
from mmseg_gcn.models import GCN, BoundaryRefine, GCNHead, StackClassifier
from mmseg_gcn.models.layers import (Upsample2x, bilinear_kernel,
                                     build_classifier)

CHANNELS = (256, 512, 1024, 2048)
STRIDES = (4, 8, 16, 32)

# Weights of the default head (k = 15, 21 classes, bias=False):
GCN_K15 = sum(2 * 15 * 21 * (c + 21) for c in CHANNELS)  # 2,472,120
BRS = 9 * 2 * 9 * 21 * 21  # 71,442
DECONVS = 5 * 16 * 21  # depthwise 4x4: 1,680


def num_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def count(module: torch.nn.Module, cls: type) -> int:
    return sum(isinstance(m, cls) for m in module.modules())


def features(h: int, w: int, channels=CHANNELS, strides=STRIDES, n=1):
    """Backbone-like features: a stride-s map has ceil(H / s) rows."""
    return [
        torch.randn(n, c, math.ceil(h / s), math.ceil(w / s))
        for c, s in zip(channels, strides)
    ]


def test_default_structure_and_param_count():
    head = GCNHead(num_classes=21, bias=False)
    assert count(head, BoundaryRefine) == 9
    assert count(head, GCN) == 4
    assert count(head, Upsample2x) == 5
    assert [g.kernel_size for g in head.classifiers] == [15] * 4
    assert not hasattr(head, 'conv_seg')
    assert head.dropout is None
    assert sum(num_params(g) for g in head.classifiers) == GCN_K15 \
        == 2_472_120
    assert num_params(head) == GCN_K15 + BRS + DECONVS == 2_545_242


def test_param_count_with_bias():
    # + 4 x 21 per GCN, + 2 x 21 per BR; the deconvs have no bias
    head = GCNHead(num_classes=21)
    assert num_params(head) == 2_545_242 + 4 * 4 * 21 + 9 * 2 * 21


@pytest.mark.parametrize('kwargs, expected, n_br, n_gcn', [
    (dict(use_br=False), GCN_K15 + DECONVS, 0, 4),
    (dict(upsample='bilinear'), GCN_K15 + BRS, 9, 4),
    (dict(deconv_depthwise=False), GCN_K15 + BRS + 5 * 21 * 21 * 16, 9, 4),
    (dict(classifier='1x1'), 21 * sum(CHANNELS) + BRS + DECONVS, 9, 0),
    (dict(classifier='conv'), 225 * 21 * sum(CHANNELS) + BRS + DECONVS, 9, 0),
    (dict(classifier='stack', kernel_size=7, stack_channels=64),
     9 * sum(64 * c + 64 * 64 + 64 * 21 for c in CHANNELS) + BRS + DECONVS,
     9, 0),
    (dict(kernel_size=(3, 5, 7, 9)),
     sum(2 * k * 21 * (c + 21) for k, c in zip((3, 5, 7, 9), CHANNELS)) +
     BRS + DECONVS, 9, 4),
])
def test_ablation_switches(kwargs, expected, n_br, n_gcn):
    with torch.device('meta'):
        head = GCNHead(num_classes=21, bias=False, **kwargs)
    assert num_params(head) == expected
    assert count(head, BoundaryRefine) == n_br
    assert count(head, GCN) == n_gcn
    assert count(head, Upsample2x) == 5


def test_exact_counts_of_ablation_heads():
    with torch.device('meta'):
        assert num_params(GCNHead(num_classes=21, bias=False,
                                  classifier='1x1')) == 153_762
        assert num_params(GCNHead(num_classes=21, bias=False,
                                  classifier='conv')) == 18_217_122
        stack = GCNHead(num_classes=21, bias=False, classifier='stack',
                        kernel_size=7, stack_channels=64)
    assert num_params(stack) == 2_480_802
    assert count(stack, StackClassifier) == 4


@pytest.mark.parametrize('size', [(512, 512), (375, 500), (333, 333)])
def test_output_size(size):
    torch.manual_seed(0)
    head = GCNHead(num_classes=21).eval()
    feats = features(*size)
    with torch.no_grad():
        out = head(feats, out_size=size)
        assert out.shape == (1, 21, *size)
        # without the size: 4x the stride-4 map (the input rounded up to 4)
        padded = head(feats)
    assert padded.shape == (1, 21, 4 * math.ceil(size[0] / 4),
                            4 * math.ceil(size[1] / 4))
    if size == (512, 512):
        assert torch.equal(out, padded)


def test_backbone_levels_that_floor_are_resized():
    head = GCNHead(num_classes=3, in_channels=(4, 4, 4, 4),
                   kernel_size=3).eval()
    feats = [torch.randn(1, 4, 75 // s, 75 // s) for s in STRIDES]
    assert head(feats, out_size=(75, 75)).shape == (1, 3, 75, 75)


def test_every_parameter_gets_a_gradient():
    torch.manual_seed(0)
    head = GCNHead(num_classes=5, in_channels=(8, 16, 32, 64), kernel_size=5)
    head.init_weights()
    feats = features(70, 90, channels=(8, 16, 32, 64), n=2)
    out = head(feats, out_size=(70, 90))
    assert out.shape == (2, 5, 70, 90)
    (out * torch.randn_like(out)).sum().backward()
    for name, p in head.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_init_keeps_deconvs_bilinear_and_brs_near_identity():
    torch.manual_seed(0)
    head = GCNHead(num_classes=21, in_channels=(8, 16, 32, 64),
                   kernel_size=5)
    head.init_weights()
    ups = [m for m in head.modules() if isinstance(m, Upsample2x)]
    for up in ups:
        assert up.deconv.groups == 21 and up.deconv.bias is None
        assert torch.equal(up.deconv.weight,
                           bilinear_kernel(4).expand(21, 1, 4, 4))
    weight = head.classifiers[3].conv_l1.conv.weight
    assert 0.009 < weight.std().item() < 0.011
    x = torch.randn(1, 21, 12, 12)
    br = head.level_refines[0]
    assert (br(x) - x).abs().max() < 0.05 * x.abs().max()
    # at init a deconv is bilinear interpolation away from the border
    ref = F.interpolate(x, scale_factor=2, mode='bilinear',
                        align_corners=False)
    torch.testing.assert_close(ups[0](x)[..., 1:-1, 1:-1],
                               ref[..., 1:-1, 1:-1])


def test_full_deconv_init_is_bilinear_per_class():
    up = Upsample2x(3, depthwise=False)
    x = torch.randn(1, 3, 6, 6)
    ref = Upsample2x(3, depthwise=True)(x)
    torch.testing.assert_close(up(x), ref)


def test_single_level_res5_head():
    """The ablation setting: a classifier on res-5 only, no BR."""
    torch.manual_seed(0)
    head = GCNHead(num_classes=21, in_channels=(2048, ), in_index=(3, ),
                   feature_strides=(32, ), classifier='1x1', use_br=False,
                   bias=False)
    assert count(head, BoundaryRefine) == 0
    assert count(head, Upsample2x) == 5
    assert num_params(head) == 2048 * 21 + 5 * 16 * 21
    feats = [None, None, None, torch.randn(1, 2048, 12, 16)]
    assert head(feats, out_size=(375, 500)).shape == (1, 21, 375, 500)
    assert head(feats).shape == (1, 21, 384, 512)
    br_head = GCNHead(num_classes=21, in_channels=2048, in_index=3,
                      feature_strides=32, kernel_size=7)
    assert count(br_head, BoundaryRefine) == 6  # 1 on res-5, 1 per step
    assert count(br_head, GCN) == 1



def test_dilated_backbone_levels_are_summed_without_upsampling():
    """On mmseg's ResNet-50-d8 (strides 4, 8, 8, 8) the head is the paper's
    minus the deconvolutions between res-3, res-4 and res-5."""
    paper = GCNHead(num_classes=21, bias=False)
    dilated = GCNHead(num_classes=21, bias=False,
                      feature_strides=(4, 8, 8, 8))
    one_deconv = num_params(paper.final_ups[0])
    assert count(dilated, Upsample2x) == count(paper, Upsample2x) - 2 == 3
    assert count(dilated, BoundaryRefine) == count(paper, BoundaryRefine)
    assert num_params(dilated) == num_params(paper) - 2 * one_deconv \
        == 2_545_242 - 2 * 16 * 21
    assert [len(u) for u in dilated.up_layers] == [1, 0, 0]

    torch.manual_seed(0)
    feats = features(75, 93, strides=(4, 8, 8, 8))
    out = dilated(feats, out_size=(75, 93))
    assert out.shape == (1, 21, 75, 93)
    # res-5's score map reaches res-3 by two plain sums
    with torch.no_grad():
        s = [r(c(f)) for f, c, r in zip(feats, dilated.classifiers,
                                         dilated.level_refines)]
        x = dilated.fuse_refines[2](s[2] + s[3])
        x = dilated.fuse_refines[1](s[1] + x)
        x = dilated.fuse_refines[0](
            s[0] + dilated._align(dilated.up_layers[0](x), s[0].shape[-2:]))
        for up, refine, size in zip(dilated.final_ups, dilated.final_refines,
                                    ((38, 47), (75, 93))):
            x = refine(dilated._align(up(x), size))
        torch.testing.assert_close(dilated(feats, out_size=(75, 93)), x)

def test_loss_and_predict_use_the_label_and_input_size():
    torch.manual_seed(0)
    head = GCNHead(num_classes=4, in_channels=(8, 16, 32, 64), kernel_size=3)
    feats = features(75, 93, channels=(8, 16, 32, 64))
    sample = SegDataSample(gt_sem_seg=PixelData(
        data=torch.randint(0, 4, (1, 75, 93))))
    seen = []
    forward = head.forward
    head.forward = lambda *a, **kw: seen.append(forward(*a, **kw)) or seen[-1]
    losses = head.loss(feats, [sample], dict())
    assert seen[-1].shape == (1, 4, 75, 93)
    assert torch.isfinite(losses['loss_ce'])
    metas = [dict(img_shape=(75, 93), pad_shape=(80, 96), ori_shape=(75, 93))]
    feats = features(80, 96, channels=(8, 16, 32, 64))
    assert head.predict(feats, metas, dict()).shape == (1, 4, 80, 96)
    assert seen[-1].shape == (1, 4, 80, 96)
    metas = [dict(img_shape=torch.Size((75, 93)))]  # slide inference
    feats = features(75, 93, channels=(8, 16, 32, 64))
    assert head.predict(feats, metas, dict()).shape == (1, 4, 75, 93)


def test_registered_in_mmseg():
    head = MODELS.build(dict(type='GCNHead', num_classes=19, kernel_size=25))
    assert isinstance(head, GCNHead)
    assert [g.kernel_size for g in head.classifiers] == [25] * 4


@pytest.mark.parametrize('kwargs, match', [
    (dict(kernel_size=14), 'kernel_size must be an odd integer >= 3'),
    (dict(kernel_size=1), 'kernel_size must be an odd integer >= 3'),
    (dict(kernel_size=(15, 15, 15)), 'kernel_size has 3 entries but there '
     'are 4 levels'),
    (dict(kernel_size=(15, 15, 15, 16)), 'kernel_size must be an odd'),
    (dict(in_channels=(256, 512, 1024)), 'in_channels has 3 entries but '
     'in_index has 4'),
    (dict(in_index=(0, 1, 2)), 'in_channels has 4 entries but in_index '
     'has 3'),
    (dict(num_classes=0), 'num_classes must be an integer >= 1'),
    (dict(classifier='fc'), "classifier must be one of .* got 'fc'"),
    (dict(upsample='nearest'), "upsample must be one of .* got 'nearest'"),
    (dict(feature_strides=(4, 8, 16)), 'feature_strides has 3 entries'),
    (dict(feature_strides=(4, 8, 12, 32)), 'powers of two that never '
     'decrease'),
    (dict(feature_strides=(4, 8, 8, 4)), 'powers of two that never '
     'decrease'),
    (dict(input_transform='resize_concat'), "input_transform must be "
     "'multiple_select'"),
    (dict(channels=512), 'GCNHead has no `channels` argument'),
    (dict(norm_cfg=dict(type='SyncBN')), 'GCNHead has no `norm_cfg` argument'),
    (dict(act_cfg=dict(type='ReLU')), 'GCNHead has no `act_cfg` argument'),
])
def test_bad_arguments(kwargs, match):
    kwargs = dict(dict(num_classes=21), **kwargs)
    with pytest.raises(ValueError, match=match):
        GCNHead(**kwargs)


@pytest.mark.parametrize('head_kwargs, build_part', [
    (dict(upsample='nearest'), lambda: Upsample2x(21, mode='nearest')),
    (dict(classifier='fc'), lambda: build_classifier('fc', 8, 21)),
    (dict(kernel_size=4), lambda: GCN(8, 21, kernel_size=4)),
])
def test_head_and_its_parts_report_a_rule_with_one_message(
        head_kwargs, build_part):
    with pytest.raises(ValueError) as from_head:
        GCNHead(num_classes=21, **head_kwargs)
    with pytest.raises(ValueError) as from_part:
        build_part()
    assert str(from_head.value) == str(from_part.value)


class _TinySegmentor(torch.nn.Module):
    """A small ResNet under the head, returning logits at the input size, as
    an exporter sees the model (the size is read from the input)."""

    def __init__(self) -> None:
        super().__init__()
        from mmseg.models.backbones import ResNet
        self.backbone = ResNet(depth=18, stem_channels=8, base_channels=8)
        self.head = GCNHead(num_classes=3, in_channels=(8, 16, 32, 64),
                            kernel_size=5)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(img), out_size=img.shape[-2:])


@pytest.mark.parametrize('trace', ['jit', 'export'])
def test_a_trace_at_one_size_is_exact_at_other_sizes(trace):
    # Traced at a multiple of 32, where every crop is a no-op: the crops
    # must still be in the graph for sizes that need them.
    torch.manual_seed(0)
    model = _TinySegmentor().eval()
    example = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        if trace == 'jit':
            traced = torch.jit.trace(model, example)
        else:
            dim = torch.export.Dim.AUTO
            traced = torch.export.export(
                model, (example, ),
                dynamic_shapes={'img': {2: dim, 3: dim}}).module()
        for size in [(64, 64), (75, 61), (97, 131)]:
            img = torch.rand(1, 3, *size)
            expected = model(img)
            got = traced(img)
            assert got.shape == (1, 3, *size)
            torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_channels_last_switch_keeps_the_maths():
    torch.manual_seed(0)
    kwargs = dict(num_classes=5, in_channels=(8, 16, 32, 64), kernel_size=5)
    plain = GCNHead(**kwargs)
    plain.init_weights()
    fast = GCNHead(channels_last=True, **kwargs)
    fast.load_state_dict(plain.state_dict())
    feats = features(70, 90, channels=(8, 16, 32, 64), n=2)
    grad = torch.randn(2, 5, 70, 90)
    outs = []
    for head in (plain, fast):
        inputs = [f.clone().requires_grad_() for f in feats]
        out = head(inputs, out_size=(70, 90))
        (out * grad).sum().backward()
        outs.append((out, [f.grad for f in inputs],
                     [p.grad for p in head.parameters()]))
    (out_a, in_grads_a, p_grads_a), (out_b, in_grads_b, p_grads_b) = outs
    assert not out_a.is_contiguous(memory_format=torch.channels_last)
    assert out_b.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(out_b, out_a, rtol=1e-4, atol=1e-5)
    for a, b in zip(in_grads_a + p_grads_a, in_grads_b + p_grads_b):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-4)
