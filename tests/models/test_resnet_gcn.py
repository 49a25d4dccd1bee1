"""ResNet-50-GCN backbone (Fig. 5B, Table 11)."""
import pytest
import torch
from mmengine.analysis import get_model_complexity_info
from mmseg.models.backbones import ResNet
from mmseg.models.backbones.resnet import Bottleneck
from mmseg.registry import MODELS

import mmseg_gcn  # noqa: F401
from mmseg_gcn.analysis.paper_tables import FLOPS_TOLERANCE
from mmseg_gcn.models import GCNBottleneck, ResNetGCN
from mmseg_gcn.paper_numbers import TABLE11_GFLOPS


def num_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def conv_strides(branch: torch.nn.Sequential) -> tuple:
    """The strides of a GCN branch's two convs, in order."""
    return tuple(conv_module.conv.stride for conv_module in branch)


@pytest.fixture(scope='module')
def resnet50() -> ResNet:
    model = ResNet(depth=50)
    model.eval()  # mmseg's ResNet.train() does not return the module
    return model


@pytest.fixture(scope='module')
def backbone() -> ResNetGCN:
    torch.manual_seed(0)
    model = ResNetGCN()
    model.init_weights()
    return model.eval()


def test_stages_follow_table_11(backbone):
    layers = [backbone.layer1, backbone.layer2, backbone.layer3,
              backbone.layer4]
    assert [len(layer) for layer in layers] == [3, 4, 6, 3]
    for layer in layers[:2]:
        assert all(type(b) is Bottleneck for b in layer)
    for layer, k, m in ((layers[2], 5, 85), (layers[3], 7, 128)):
        assert all(type(b) is GCNBottleneck for b in layer)
        assert {(b.kernel_size, b.gcn_width) for b in layer} == {(k, m)}
    # res-4, first block: 512 -> 1024 channels, branches of width 85
    b = backbone.layer3[0]
    assert b.branch1[0].conv.weight.shape == (85, 512, 1, 5)  # 1 x k
    assert b.branch1[1].conv.weight.shape == (85, 85, 5, 1)  # k x 1
    assert b.branch2[0].conv.weight.shape == (85, 512, 5, 1)  # k x 1
    assert b.branch2[1].conv.weight.shape == (85, 85, 1, 5)  # 1 x k
    assert b.conv3.weight.shape == (1024, 85, 1, 1)
    assert b.downsample[0].weight.shape == (1024, 512, 1, 1)
    # pytorch style: the second conv of each branch carries the stride
    assert conv_strides(b.branch1) == ((1, 1), (2, 2))
    assert conv_strides(b.branch2) == ((1, 1), (2, 2))
    b = backbone.layer4[1]
    assert b.branch1[0].conv.weight.shape == (128, 2048, 1, 7)
    assert b.branch2[1].conv.weight.shape == (128, 128, 1, 7)
    assert b.conv3.weight.shape == (2048, 128, 1, 1)
    assert b.downsample is None
    # each branch conv is followed by BN (+ ReLU); 5 norms per block
    norms = [m for m in b.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert [n.num_features for n in norms] == [128] * 4 + [2048]


def test_caffe_style_strides_the_first_conv():
    b = ResNetGCN(style='caffe').layer4[0]
    assert conv_strides(b.branch1) == ((2, 2), (1, 1))
    assert conv_strides(b.branch2) == ((2, 2), (1, 1))


def test_param_counts(backbone, resnet50):
    # the stem, res-2 and res-3 are ResNet-50's
    for name in ('conv1', 'bn1', 'layer1', 'layer2'):
        assert num_params(getattr(backbone, name)) == num_params(
            getattr(resnet50, name))
    # res-4: first block 2*(5*512*85 + 5*85*85) + 85*1024 + 512*1024 weights,
    # the others 2*(5*1024*85 + 5*85*85) + 85*1024, plus the norms
    first = 2 * (5 * 512 * 85 + 5 * 85 * 85) + 85 * 1024 + 512 * 1024
    other = 2 * (5 * 1024 * 85 + 5 * 85 * 85) + 85 * 1024
    norms = 6 * (4 * 2 * 85 + 2 * 1024) + 2 * 1024
    assert num_params(backbone.layer3) == first + 5 * other + norms \
        == 6_285_644
    assert num_params(backbone.layer4) == 12_766_208
    assert num_params(backbone) == 20_496_780
    assert num_params(resnet50) == 23_508_032


def test_flops_match_resnet50(backbone, resnet50):
    """The paper gives about 3.7 GFLOPs for both nets at 224 x 224."""
    shape = (3, 224, 224)
    ours = get_model_complexity_info(
        backbone, input_shape=shape, show_table=False, show_arch=False)
    ref = get_model_complexity_info(
        resnet50, input_shape=shape, show_table=False, show_arch=False)
    # multiply-accumulates of the convs: 4.214 G vs 4.109 G
    assert ours['flops'] == pytest.approx(ref['flops'], rel=0.05)
    assert ours['flops'] == 4_213_669_152
    assert ref['flops'] == 4_109_364_224
    for flops in (ours['flops'], ref['flops']):
        assert flops / 1e9 == pytest.approx(TABLE11_GFLOPS,
                                            rel=FLOPS_TOLERANCE)
    # the paper's k and m' make the GCN stages lighter in parameters (87%)
    assert ours['params'] == 20_496_780
    assert ours['params'] / ref['params'] == pytest.approx(0.872, abs=1e-3)


@pytest.mark.parametrize('size', [(224, 224), (225, 333)])
def test_output_shapes_equal_resnet50(backbone, resnet50, size):
    x = torch.rand(1, 3, *size)
    with torch.no_grad():
        ours = backbone(x)
        ref = resnet50(x)
    assert [o.shape for o in ours] == [r.shape for r in ref]
    if size == (224, 224):
        assert [tuple(o.shape) for o in ours] == [(1, 256, 56, 56),
                                                  (1, 512, 28, 28),
                                                  (1, 1024, 14, 14),
                                                  (1, 2048, 7, 7)]


def test_out_indices():
    model = ResNetGCN(out_indices=(1, 3)).eval()
    outs = model(torch.rand(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == [512, 2048]


def test_zero_init_residual(backbone):
    for layer in (backbone.layer1, backbone.layer3, backbone.layer4):
        for block in layer:
            assert torch.equal(block.norm3.weight,
                               torch.zeros_like(block.norm3.weight))
    assert backbone.layer3[0].branch1[0].conv.weight.abs().sum() > 0


def test_frozen_stages():
    model = ResNetGCN(frozen_stages=3)
    model.train()
    for name in ('conv1', 'bn1', 'layer1', 'layer2', 'layer3'):
        module = getattr(model, name)
        assert all(not p.requires_grad for p in module.parameters()), name
    for name in ('bn1', 'layer1', 'layer2', 'layer3'):
        assert all(not m.training for m in getattr(model, name).modules())
    assert all(p.requires_grad for p in model.layer4.parameters())
    assert model.layer4.training


def test_norm_eval():
    model = ResNetGCN(norm_eval=True)
    model.train()
    norms = [m for m in model.modules()
             if isinstance(m, torch.nn.BatchNorm2d)]
    assert norms and all(not m.training for m in norms)
    assert all(p.requires_grad for p in model.parameters())


def test_pretrained_with_prefix(tmp_path):
    torch.manual_seed(1)
    source = ResNetGCN(stage_blocks=(1, 1, 1, 1))
    source.init_weights()
    for m in source.modules():  # make every norm distinguishable
        if isinstance(m, torch.nn.BatchNorm2d):
            torch.nn.init.normal_(m.weight)
            torch.nn.init.normal_(m.running_mean)
    state = {f'backbone.{k}': v for k, v in source.state_dict().items()}
    state['decode_head.conv.weight'] = torch.zeros(1)
    path = tmp_path / 'segmentor.pth'
    torch.save(dict(state_dict=state), path)
    target = ResNetGCN(
        stage_blocks=(1, 1, 1, 1),
        init_cfg=dict(type='Pretrained', checkpoint=str(path),
                      prefix='backbone.'))
    target.init_weights()
    target_state = target.state_dict()
    assert target_state.keys() == source.state_dict().keys()
    for key, value in source.state_dict().items():
        assert torch.equal(target_state[key], value), key


def test_with_cp_gives_the_same_gradients():
    torch.manual_seed(0)
    small = dict(stem_channels=8, base_channels=8, stage_blocks=(1, 1, 1, 1),
                 gcn_widths=(None, None, 6, 8))
    model = ResNetGCN(**small)
    cp_model = ResNetGCN(with_cp=True, **small)
    cp_model.load_state_dict(model.state_dict())
    x = torch.rand(2, 3, 32, 32)
    for m in (model, cp_model):
        sum(o.sum() for o in m(x)).backward()
    b, cp_b = model.layer3[0], cp_model.layer3[0]
    torch.testing.assert_close(cp_b.branch1[0].conv.weight.grad,
                               b.branch1[0].conv.weight.grad)


def test_deeper_variant():
    with torch.device('meta'):
        model = ResNetGCN(stage_blocks=(3, 4, 23, 3))
    assert len(model.layer3) == 23
    assert all(isinstance(b, GCNBottleneck) for b in model.layer3)
    with torch.device('meta'):
        plain = ResNetGCN(gcn_kernel_sizes=(None, ) * 4,
                          gcn_widths=(None, ) * 4)
    assert num_params(plain) == 23_508_032  # ResNet-50 again


def test_registered_in_mmseg_and_mmpretrain():
    assert isinstance(MODELS.build(dict(type='ResNetGCN', frozen_stages=0)),
                      ResNetGCN)
    from mmpretrain.registry import MODELS as PRETRAIN_MODELS
    classifier = PRETRAIN_MODELS.build(
        dict(
            type='ImageClassifier',
            backbone=dict(type='ResNetGCN', out_indices=(3, )),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(
                type='LinearClsHead',
                num_classes=10,
                in_channels=2048,
                loss=dict(type='CrossEntropyLoss'))))
    assert isinstance(classifier.backbone, ResNetGCN)
    classifier.eval()
    with torch.no_grad():
        scores = classifier(torch.rand(1, 3, 64, 64), mode='tensor')
    assert scores.shape == (1, 10)


@pytest.mark.parametrize('kwargs, match', [
    (dict(gcn_kernel_sizes=(None, None, 4, 7)),
     r'gcn_kernel_sizes\[2\] must be an odd integer >= 3'),
    (dict(gcn_kernel_sizes=(None, None, 5, 1)),
     r'gcn_kernel_sizes\[3\] must be an odd integer >= 3'),
    (dict(gcn_kernel_sizes=(None, 5, 7)),
     'gcn_kernel_sizes has 3 entries but stage_blocks has 4'),
    (dict(gcn_widths=(None, None, 85, None)),
     r'gcn_kernel_sizes\[3\]=7 but gcn_widths\[3\]=None'),
    (dict(gcn_widths=(None, None, 0, 128)),
     r'gcn_widths\[2\] must be a positive integer'),
    (dict(strides=(1, 2, 2)), 'strides has 3 entries'),
    (dict(stage_blocks=(3, 4, 0, 3)), 'stage_blocks must list 1 to 4'),
    (dict(out_indices=(0, 4)), r'out_indices must be stage indices in '
     r'\[0, 3\]'),
    (dict(frozen_stages=5), r'frozen_stages must be in \[-1, 4\]'),
    (dict(style='tf'), "style must be 'pytorch' or 'caffe'"),
    (dict(depth=101), "ResNetGCN takes no 'depth'"),
    (dict(plugins=[dict(cfg=dict(type='ContextBlock', ratio=0.25),
                        position='after_conv3')]),
     r'stage 2 is made of GCN bottlenecks, which take no dcn or plugins'),
    (dict(dcn=dict(type='DCNv2', deform_groups=1),
          stage_with_dcn=(False, False, False, True)),
     r'stage 3 is made of GCN bottlenecks.*stage_with_dcn\[3\]'),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ResNetGCN(**kwargs)


# What mmseg's ResNet gives the subclass: the stem variants, avg_down,
# plugins, freezing and norm_eval, and train() returning the module.


def test_train_returns_the_module():
    model = ResNetGCN(stage_blocks=(1, 1, 1, 1))
    assert model.train() is model
    assert model.eval() is model and not model.training


def test_frozen_stages_1_freezes_the_stem_and_res2_only():
    model = ResNetGCN(frozen_stages=1)
    model.train()
    for name in ('conv1', 'bn1', 'layer1'):
        module = getattr(model, name)
        assert all(not p.requires_grad for p in module.parameters()), name
    # (a conv has no mode; the norms keep their statistics)
    assert not model.bn1.training
    assert all(not m.training for m in model.layer1.modules())
    for name in ('layer2', 'layer3', 'layer4'):
        module = getattr(model, name)
        assert all(p.requires_grad for p in module.parameters()), name
        assert all(m.training for m in module.modules()), name
    # the GCN branches' norms train too
    assert model.layer3[0].branch1[0].bn.training


def test_norm_eval_keeps_the_gcn_branch_norms_in_eval():
    model = ResNetGCN(stage_blocks=(1, 1, 1, 1), norm_eval=True,
                      frozen_stages=1)
    model.train()
    gcn_norms = [m for m in model.layer4.modules()
                 if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(gcn_norms) == 4 + 1 + 1  # branches, norm3, downsample
    assert all(not m.training for m in gcn_norms)
    assert model.layer4[0].branch2[1].conv.training
    assert all(p.requires_grad for p in model.layer4.parameters())


def test_deep_stem():
    model = ResNetGCN(deep_stem=True, frozen_stages=0).eval()
    assert not hasattr(model, 'conv1')
    # three 3x3 convs (3 -> 32 -> 32 -> 64) with their norms instead of the
    # 7x7 conv (9,408) and its norm (128)
    stem = 32 * 3 * 9 + 64 + 32 * 32 * 9 + 64 + 64 * 32 * 9 + 128
    assert num_params(model.stem) == stem == 28_768
    assert num_params(model) == 20_496_780 - 9_408 - 128 + stem \
        == 20_516_012
    assert all(not p.requires_grad for p in model.stem.parameters())
    assert all(p.requires_grad for p in model.layer1.parameters())
    with torch.no_grad():
        outs = model(torch.rand(1, 3, 64, 64))
    assert [tuple(o.shape[1:]) for o in outs] == [(256, 16, 16),
                                                  (512, 8, 8),
                                                  (1024, 4, 4),
                                                  (2048, 2, 2)]


def test_avg_down_pools_before_the_gcn_stage_projection():
    model = ResNetGCN(avg_down=True).eval()
    pool, conv = model.layer3[0].downsample[:2]
    assert isinstance(pool, torch.nn.AvgPool2d) and pool.stride == 2
    assert conv.stride == (1, 1)
    assert num_params(model) == 20_496_780
    with torch.no_grad():
        outs = model(torch.rand(1, 3, 64, 64))
    assert [o.shape[-1] for o in outs] == [16, 8, 4, 2]


def test_plugins_on_plain_stages():
    model = ResNetGCN(plugins=[
        dict(cfg=dict(type='ContextBlock', ratio=0.25),
             stages=(False, True, False, False),
             position='after_conv3')
    ]).eval()
    assert all(hasattr(b, 'context_block') for b in model.layer2)
    assert not hasattr(model.layer1[0], 'context_block')
    # per block: mask 512 -> 1 (513), 512 -> 128 (65,664), LayerNorm (256),
    # 128 -> 512 (66,048)
    assert [num_params(b.context_block) for b in model.layer2] == [132_481] * 4
    assert num_params(model) == 20_496_780 + 4 * 132_481
    with torch.no_grad():
        assert model(torch.rand(1, 3, 64, 64))[1].shape == (1, 512, 8, 8)


# Checkpoints written before the GCN branches were ConvModules name the
# branch layers conv1a/bn1a, conv1b/bn1b, conv2a/bn2a, conv2b/bn2b.
LEGACY_NAMES = {'branch1.0': '1a', 'branch1.1': '1b', 'branch2.0': '2a',
                'branch2.1': '2b'}


def legacy_key(key: str) -> str:
    """``layer3.0.branch1.0.bn.weight`` -> ``layer3.0.bn1a.weight``."""
    for new, old in LEGACY_NAMES.items():
        for layer in ('conv', 'bn'):
            key = key.replace(f'.{new}.{layer}.', f'.{layer}{old}.')
    return key


def distinct_small_model(seed: int) -> ResNetGCN:
    torch.manual_seed(seed)
    model = ResNetGCN(stage_blocks=(1, 1, 2, 1))
    model.init_weights()
    for m in model.modules():  # make every norm distinguishable
        if isinstance(m, torch.nn.BatchNorm2d):
            torch.nn.init.normal_(m.weight)
            torch.nn.init.normal_(m.running_mean)
    return model


def test_checkpoints_with_the_former_branch_names_load(tmp_path):
    source = distinct_small_model(seed=2)
    state = {legacy_key(k): v for k, v in source.state_dict().items()}
    # the names the former class wrote, for one block of each GCN stage
    for key in ('layer3.0.conv1a.weight', 'layer3.0.bn1a.running_mean',
                'layer3.1.conv2b.weight', 'layer4.0.bn1b.num_batches_tracked',
                'layer4.0.bn2a.weight', 'layer4.0.conv3.weight',
                'layer4.0.bn3.weight', 'layer4.0.downsample.1.weight'):
        assert key in state, key
    assert not any('branch' in key for key in state)

    target = ResNetGCN(stage_blocks=(1, 1, 2, 1))
    result = target.load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    for key, value in source.state_dict().items():
        assert torch.equal(target.state_dict()[key], value), key

    # and through a segmentation config's init_cfg with prefix='backbone.'
    path = tmp_path / 'legacy.pth'
    torch.save(dict(state_dict={f'backbone.{k}': v
                                for k, v in state.items()}), path)
    target = ResNetGCN(
        stage_blocks=(1, 1, 2, 1),
        init_cfg=dict(type='Pretrained', checkpoint=str(path),
                      prefix='backbone.'))
    target.init_weights()
    for key, value in source.state_dict().items():
        assert torch.equal(target.state_dict()[key], value), key
