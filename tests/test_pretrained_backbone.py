"""ResNet-50-GCN: a checkpoint of the mmpretrain pre-training config loads
into the segmentation backbone through ``init_cfg`` with
``prefix='backbone.'``, every weight equal."""
import numpy as np
import pytest
import torch
from conftest import REPO
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from mmseg.registry import MODELS
from PIL import Image

import mmseg_gcn  # noqa: F401
from mmseg_gcn.engine import load_local_checkpoint

pytestmark = pytest.mark.slow  # a pre-training iteration through the Runner

PRETRAIN = REPO / 'configs' / 'resnet50_gcn' / 'resnet50-gcn_8xb32_in1k.py'
SEGMENTATION = (REPO / 'configs' / 'gcn' /
                'gcn_r50-gcn-d32_1xb1-640k_voc12aug-512x512.py')


def tiny_imagenet(root):
    """Two classes of one 40 x 40 image each, in ImageNet's folder layout."""
    rng = np.random.default_rng(0)
    for name in ('n01440764', 'n01443537'):
        (root / name).mkdir(parents=True)
        Image.fromarray(rng.integers(0, 255, (40, 40, 3), np.uint8)).save(
            root / name / f'{name}_1.JPEG')
    return root


def test_pretrained_classifier_loads_into_segmentation_backbone(tmp_path):
    # One iteration of the real pre-training config through mmengine's Runner
    # (smaller images and head; the backbone is the config's own).
    cfg = Config.fromfile(PRETRAIN)
    cfg.work_dir = str(tmp_path / 'pretrain')
    cfg.model.head.num_classes = 2
    cfg.model.head.topk = (1, )
    cfg.train_dataloader = dict(
        batch_size=2,
        num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dict(
            type='CustomDataset',
            data_root=str(tiny_imagenet(tmp_path / 'imagenet' / 'train')),
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='RandomResizedCrop', scale=32),
                dict(type='PackInputs')
            ]))
    cfg.train_cfg = dict(by_epoch=True, max_epochs=1, val_interval=1)
    for key in ('val', 'test'):
        cfg[f'{key}_dataloader'] = cfg[f'{key}_cfg'] = None
        cfg[f'{key}_evaluator'] = None
    # (the Runner makes mmpretrain the default registry scope: only here)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        Runner.from_cfg(cfg).train()
    checkpoint = tmp_path / 'pretrain' / 'epoch_1.pth'
    saved = load_local_checkpoint(checkpoint)['state_dict']
    expected = {k[len('backbone.'):]: v for k, v in saved.items()
                if k.startswith('backbone.')}

    # The documented way: the segmentation config's backbone init_cfg, with
    # another file.
    backbone_cfg = Config.fromfile(SEGMENTATION).model.backbone
    init_cfg = backbone_cfg.init_cfg
    assert (init_cfg.type, init_cfg.prefix) == ('Pretrained', 'backbone.')
    init_cfg.checkpoint = str(checkpoint)
    with DefaultScope.overwrite_default_scope('mmseg'):
        backbone = MODELS.build(backbone_cfg)
    backbone.init_weights()

    loaded = backbone.state_dict()
    assert loaded.keys() == expected.keys()
    for name, tensor in expected.items():
        assert torch.equal(loaded[name], tensor), name
