"""GCNHead on the backbones of other MMSeg projects: mmseg's dilated
ResNet-50-d8 (strides 4, 8, 8, 8), MiT (SegFormer), Swin, and mmpretrain
backbones through ``mmpretrain.`` types. The two example configs of another
project (``docs/examples/other_project``) train with mmseg's own
``tools/train.py`` and infer with ``inference_model``."""
from pathlib import Path

import mmseg
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.apis import inference_model, init_model
from mmseg.registry import MODELS

from conftest import REPO, VOC_SUBDIR, run_tool
from mmseg_gcn.engine import load_local_checkpoint
from mmseg_gcn.engine.head_channels import (HeadChannelsError,
                                            check_head_channels)

EXAMPLES = REPO / 'docs' / 'examples' / 'other_project'
R50_D8 = EXAMPLES / 'gcn_r50-d8_4xb4-40k_voc12aug-512x512.py'
MIT_B0 = EXAMPLES / 'gcn_mit-b0_4xb4-40k_voc12aug-512x512.py'


def _gcn_head(in_channels, feature_strides) -> dict:
    return dict(_delete_=True, type='GCNHead', in_channels=in_channels,
                in_index=(0, 1, 2, 3), feature_strides=feature_strides,
                kernel_size=7, num_classes=21)


def _config(folder: Path, base: str, **model) -> Path:
    """A config file that puts GCNHead on an mmseg base model."""
    path = folder / 'config.py'
    path.write_text(
        f'_base_ = [{base!r}]\n'
        "custom_imports = dict(imports=['mmseg_gcn', 'mmpretrain.models'], "
        'allow_failed_imports=False)\n'
        f'model = {model!r}\n')
    return path


def _logits(cfg: Config, size: int = 64) -> torch.Tensor:
    init_default_scope('mmseg')
    cfg.model.pop('pretrained', None)
    cfg.model.backbone.pop('init_cfg', None)
    cfg.model.pop('data_preprocessor', None)
    if cfg.model.get('auxiliary_head') is not None:
        cfg.model.auxiliary_head = None
    model = MODELS.build(cfg.model).eval()
    with torch.no_grad():
        return model(torch.zeros(1, 3, size, size), mode='tensor')


@pytest.mark.parametrize('config, strides', [
    (R50_D8, (4, 8, 8, 8)),
    (MIT_B0, (4, 8, 16, 32)),
], ids=['resnet50-d8', 'mit-b0'])
def test_example_configs_fit_their_backbones(config, strides):
    cfg = Config.fromfile(str(config))
    assert cfg.model.decode_head.feature_strides == strides
    check_head_channels(cfg)
    assert _logits(cfg).shape == (1, 21, 64, 64)


def test_paper_strides_on_a_dilated_backbone_are_refused_by_name():
    cfg = Config.fromfile(str(R50_D8))
    cfg.model.decode_head.feature_strides = (4, 8, 16, 32)
    with pytest.raises(HeadChannelsError) as error:
        check_head_channels(cfg)
    message = str(error.value)
    assert 'model.decode_head.feature_strides is (4, 8, 16, 32)' in message
    assert 'have strides (4, 8, 8, 8)' in message
    assert 'Set model.decode_head.feature_strides=[4,8,8,8]' in message


def test_swin_backbone(tmp_path):
    cfg = Config.fromfile(str(_config(
        tmp_path, 'mmseg::_base_/models/upernet_swin.py',
        backbone=dict(depths=(2, 2, 2, 2)),
        decode_head=_gcn_head((96, 192, 384, 768), (4, 8, 16, 32)))))
    check_head_channels(cfg)
    assert _logits(cfg).shape == (1, 21, 64, 64)


def test_mmpretrain_backbone_through_its_type_prefix(tmp_path):
    cfg = Config.fromfile(str(_config(
        tmp_path, 'mmseg::_base_/models/fcn_r50-d8.py',
        backbone=dict(_delete_=True, type='mmpretrain.ConvNeXt', arch='atto',
                      out_indices=(0, 1, 2, 3),
                      gap_before_final_norm=False),
        auxiliary_head=None,
        decode_head=_gcn_head((40, 80, 160, 320), (4, 8, 16, 32)))))
    check_head_channels(cfg)
    cfg.model.decode_head.in_channels = (40, 80, 160, 321)
    with pytest.raises(HeadChannelsError, match='have \\(40, 80, 160, 320\\)'):
        check_head_channels(cfg)
    cfg.model.decode_head.in_channels = (40, 80, 160, 320)
    assert _logits(cfg).shape == (1, 21, 64, 64)


def _small_run(folder: Path, example: Path, data_root: Path) -> Path:
    """The example config made small enough for two CPU iterations on the
    demo data, as a user's own config that inherits it."""
    path = folder / f'small_{example.name}'
    path.write_text(f"""_base_ = [{str(example)!r}]
data_root = {str(data_root)!r}
crop_size = (64, 64)
model = dict(pretrained=None, data_preprocessor=dict(size=crop_size))
train_pipeline = [
    dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
    dict(type='RandomCrop', crop_size=crop_size), dict(type='PackSegInputs')]
test_pipeline = [
    dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')]
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(datasets=[
        dict(type='PascalVOCDataset', data_root=data_root,
             data_prefix=dict(img_path='JPEGImages',
                              seg_map_path=labels),
             ann_file=f'ImageSets/Segmentation/{{split}}.txt',
             pipeline=train_pipeline)
        for split, labels in (('train', 'SegmentationClass'),
                              ('aug', 'SegmentationClassAug'))]))
val_dataloader = dict(
    num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
train_cfg = dict(type='IterBasedTrainLoop', max_iters=2, val_interval=2)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=2))
""")
    return path


@pytest.mark.slow
@pytest.mark.parametrize('example', [R50_D8, MIT_B0],
                         ids=['resnet50-d8', 'mit-b0'])
def test_mmseg_train_py_trains_the_example_and_inference_model_runs_it(
        example, demo_data, tmp_path):
    config = _small_run(tmp_path, example, demo_data / VOC_SUBDIR)
    mmseg_train = Path(mmseg.__file__).parent / '.mim' / 'tools' / 'train.py'
    work_dir = tmp_path / 'work'
    result = run_tool([str(mmseg_train), str(config), '--work-dir',
                       str(work_dir)], cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    checkpoint = work_dir / 'iter_2.pth'
    assert load_local_checkpoint(checkpoint)['meta']['iter'] == 2
    assert 'mIoU' in result.stdout + result.stderr

    model = init_model(str(config), str(checkpoint), device='cpu')
    image = np.random.default_rng(0).integers(0, 255, (40, 56, 3),
                                              dtype=np.uint8)
    result = inference_model(model, image)
    assert tuple(result.pred_sem_seg.data.shape[-2:]) == (40, 56)
    assert result.pred_sem_seg.data.max() < 21
