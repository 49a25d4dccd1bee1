"""The model base configs, built into mmseg's EncoderDecoder and run on CPU."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmseg_gcn  # noqa: F401
from mmseg_gcn.models import BoundaryRefine, GCNHead, ResNetGCN

REPO = Path(__file__).resolve().parents[2]
R152_CONFIG = REPO / 'configs' / '_base_' / 'models' / 'gcn_r152.py'
R50_GCN_CONFIG = REPO / 'configs' / '_base_' / 'models' / 'gcn_resnet50-gcn.py'

# ResNet-152 (58,143,808, no fc) + GCNHead (k = 15, 21 classes, with biases)
R152_GCN_PARAMS = 60_689_764
HEAD_PARAMS = 2_545_956


def build_cpu_model(path: Path):
    """Builds a config's model with BN instead of SyncBN (which needs a
    GPU) and without the backbone's pretrained weights (no network).

    ``init_weights`` is left out: on a 60M-parameter model it costs seconds
    and these tests only need a model that runs."""
    cfg = Config.fromfile(str(path))
    cfg.model.backbone.norm_cfg = dict(type='BN', requires_grad=True)
    cfg.model.backbone.pop('init_cfg', None)
    init_default_scope('mmseg')
    return MODELS.build(cfg.model)


def record_head_outputs(model) -> list:
    """Records the shape of every logits map the decode head produces."""
    shapes = []
    forward = model.decode_head.forward

    def recording_forward(*args, **kwargs):
        out = forward(*args, **kwargs)
        shapes.append(tuple(out.shape))
        return out

    model.decode_head.forward = recording_forward
    return shapes


def sample(h: int, w: int, label: bool = False) -> SegDataSample:
    data_sample = SegDataSample(
        metainfo=dict(img_shape=(h, w), ori_shape=(h, w)))
    if label:
        labels = torch.randint(0, 21, (1, h, w))
        labels[:, :5] = 255  # padding / void
        data_sample.gt_sem_seg = PixelData(data=labels)
    return data_sample


def test_r152_config_follows_the_paper():
    cfg = Config.fromfile(str(R152_CONFIG))
    assert cfg.custom_imports == dict(
        imports=['mmseg_gcn'], allow_failed_imports=False)
    backbone, head = cfg.model.backbone, cfg.model.decode_head
    assert cfg.model.type == 'EncoderDecoder'
    assert (backbone.type, backbone.depth) == ('ResNet', 152)
    assert tuple(backbone.strides) == (1, 2, 2, 2)
    assert tuple(backbone.dilations) == (1, 1, 1, 1)
    assert backbone.norm_cfg.type == 'SyncBN'
    assert backbone.init_cfg == dict(
        type='Pretrained', checkpoint='torchvision://resnet152')
    assert head.type == 'GCNHead'
    assert tuple(head.in_channels) == (256, 512, 1024, 2048)
    assert tuple(head.in_index) == (0, 1, 2, 3)
    assert (head.kernel_size, head.num_classes) == (15, 21)
    assert cfg.model.test_cfg.mode == 'whole'
    preprocessor = cfg.model.data_preprocessor
    assert preprocessor.type == 'SegDataPreProcessor'
    assert preprocessor.bgr_to_rgb is True
    assert (preprocessor.pad_val, preprocessor.seg_pad_val) == (0, 255)
    assert preprocessor.mean == [123.675, 116.28, 103.53]
    assert preprocessor.std == [58.395, 57.12, 57.375]


@pytest.mark.slow
def test_r152_segmentor_loss_and_predict_at_512():
    torch.manual_seed(0)
    model = build_cpu_model(R152_CONFIG)
    assert isinstance(model.decode_head, GCNHead)
    assert model.decode_head.channels_last  # the speed switch is on
    assert sum(isinstance(m, BoundaryRefine)
               for m in model.decode_head.modules()) == 9
    total = sum(p.numel() for p in model.parameters())
    head = sum(p.numel() for p in model.decode_head.parameters())
    print(f'\nResNet-152 + GCNHead parameters: {total:,} '
          f'(head {head:,}, backbone {total - head:,})')
    assert head == HEAD_PARAMS
    assert total == R152_GCN_PARAMS

    shapes = record_head_outputs(model)
    inputs = torch.randn(1, 3, 512, 512)
    model.train()
    losses = model.loss(inputs, [sample(512, 512, label=True)])
    assert set(losses) == {'decode.loss_ce', 'decode.acc_seg'}
    assert torch.isfinite(losses['decode.loss_ce'])

    model.eval()
    with torch.no_grad():
        results = model.predict(inputs, [sample(512, 512)])
    assert results[0].seg_logits.data.shape == (21, 512, 512)
    assert results[0].pred_sem_seg.data.shape == (1, 512, 512)
    # logits come out of the head at the input size: no resize needed
    assert shapes == [(1, 21, 512, 512)] * 2


@pytest.fixture(scope='module')
def r50_gcn_model():
    torch.manual_seed(0)
    return build_cpu_model(R50_GCN_CONFIG)


@pytest.mark.parametrize('size', [(375, 500), (333, 333)])
def test_predict_any_image_size(r50_gcn_model, size):
    """Images go through the data preprocessor and the whole EncoderDecoder
    (VOC images are 500 x 375)."""
    model = r50_gcn_model
    assert isinstance(model.backbone, ResNetGCN)
    shapes = record_head_outputs(model)
    img = torch.randint(0, 256, (3, *size), dtype=torch.uint8)
    model.eval()
    with torch.no_grad():
        results = model.test_step(
            dict(inputs=[img], data_samples=[sample(*size)]))
    assert results[0].seg_logits.data.shape == (21, *size)
    assert results[0].pred_sem_seg.data.shape == (1, *size)
    assert shapes == [(1, 21, *size)]


def test_predict_a_batch_without_data_samples(r50_gcn_model):
    model = r50_gcn_model
    shapes = record_head_outputs(model)
    model.eval()
    with torch.no_grad():
        results = model.predict(torch.randn(2, 3, 161, 97))
    assert [r.seg_logits.data.shape for r in results] == [(21, 161, 97)] * 2
    assert shapes == [(2, 21, 161, 97)]


def test_train_step_at_odd_size(r50_gcn_model):
    """Training on a 333 x 333 image: loss at the label size, gradients
    through the head into the backbone."""
    model = r50_gcn_model
    model.zero_grad()
    shapes = record_head_outputs(model)
    model.train()
    model.data_preprocessor.size = (333, 333)  # the crop size of a config
    try:
        data = model.data_preprocessor(
            dict(
                inputs=[
                    torch.randint(0, 256, (3, 333, 333), dtype=torch.uint8)
                ],
                data_samples=[sample(333, 333, label=True)]),
            training=True)
    finally:
        model.data_preprocessor.size = None
    losses = model.loss(**data)
    assert shapes == [(1, 21, 333, 333)]
    assert torch.isfinite(losses['decode.loss_ce'])
    losses['decode.loss_ce'].backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None for g in grads)
    assert model.backbone.conv1.weight.grad.abs().sum() > 0
