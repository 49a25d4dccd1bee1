"""The official download layouts convert, through the official converters,
into exactly what the package's configs read (the schedules then train on
them: ``tests/test_stages.py``'s data is made this way)."""
import copy
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO
from download_layouts import (cityscapes_download, convert_cityscapes,
                              convert_voc_aug, voc_download)
from mmengine.config import Config
from mmengine.registry import init_default_scope
from PIL import Image
from scipy.io import loadmat

import mmseg_gcn  # noqa: F401  (registers the components)
from mmseg_gcn.datasets import leaf_datasets
from mmseg_gcn.datasets.synthetic import generate_cityscapes, generate_voc_aug

GCN = REPO / 'configs' / 'gcn'
CITYSCAPES_STAGES = (GCN / 'gcn_r152-d32_1xb1-320k_cityscapes-fine-coarse-'
                     '800x800.py', GCN / 'gcn_r152-d32_1xb1-160k_cityscapes-'
                     '800x800-ft.py')
VOC_STAGES = (GCN / 'gcn_r152-d32_1xb1-320k_voc12aug-512x512-ft.py',
              GCN / 'gcn_r152-d32_1xb1-40k_voc12-512x512-ft.py')


def _samples(config: Path, data: Path, loader: str) -> list:
    """Every sample of a config's dataloader, read from ``data`` by mmseg's
    dataset classes, with its label as its train pipeline loads it."""
    from mmseg.registry import DATASETS
    init_default_scope('mmseg')
    cfg = Config.fromfile(config)
    dataset_cfg = copy.deepcopy(cfg[loader]['dataset'])
    for leaf in leaf_datasets(dataset_cfg):
        leaf['data_root'] = str(data / Path(leaf['data_root']).relative_to(
            'data'))
    dataset = DATASETS.build(dataset_cfg)
    assert len(dataset) > 0
    return [dataset.get_data_info(i) for i in range(len(dataset))]


@pytest.fixture(scope='module')
def cityscapes(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp('cityscapes') / 'data'
    generate_cityscapes(data, num_train=2, num_val=1, num_extra=2,
                        width=128, seed=0)
    return data


def test_cityscapes_polygons_convert_to_what_the_configs_read(cityscapes):
    polygons = cityscapes_download(cityscapes)
    assert len(polygons) == 5  # 2 train + 1 val fine, 2 coarse
    assert not list(cityscapes.rglob('*_labelTrainIds.png'))
    convert_cityscapes(cityscapes)
    for config in CITYSCAPES_STAGES:
        for loader in ('train_dataloader', 'val_dataloader'):
            for sample in _samples(config, cityscapes, loader):
                label = np.array(Image.open(sample['seg_map_path']))
                assert set(np.unique(label)) <= set(range(19)) | {255}
                # the ego-vehicle polygon (label id 1) is ignored
                assert (label[-3:] == 255).all()
    # the official evaluator's ground truth is there too
    assert len(list(cityscapes.rglob('*_gtFine_labelIds.png'))) == 3


@pytest.fixture(scope='module')
def voc(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp('voc') / 'data'
    generate_voc_aug(data, num_train=3, num_aug=2, num_val=2, min_side=64,
                     max_side=96, seed=0)
    return data


def test_voc_palette_pngs_and_sbd_mat_files_convert_with_mmseg_voc_aug(voc):
    root = voc / 'VOCdevkit' / 'VOC2012'
    made_by_generator = {
        png.stem: np.array(Image.open(png))
        for png in (root / 'SegmentationClassAug').glob('*.png')
    }
    sbd = voc_download(voc)
    assert not (root / 'SegmentationClassAug').exists()
    mat = loadmat(sbd / 'dataset' / 'cls' / f'{sorted(made_by_generator)[0]}'
                  '.mat')
    assert mat['GTcls'][0]['Segmentation'][0].dtype == np.uint8
    convert_voc_aug(voc)
    for stem, label in made_by_generator.items():
        converted = np.array(Image.open(root / 'SegmentationClassAug' /
                                        f'{stem}.png'))
        assert np.array_equal(converted, label), stem
    for config in VOC_STAGES:
        samples = _samples(config, voc, 'train_dataloader')
        for sample in samples:
            label = Image.open(sample['seg_map_path'])
            values = set(np.unique(np.array(label)))
            assert values <= set(range(21)) | {255}
        # VOC's own labels: palette PNGs with void (255) outlines
        voc_labels = [s for s in samples
                      if 'SegmentationClass/' in s['seg_map_path']]
        assert voc_labels
        assert all(Image.open(s['seg_map_path']).mode == 'P'
                   for s in voc_labels)
        assert any(255 in np.array(Image.open(s['seg_map_path']))
                   for s in voc_labels)
    stage1 = _samples(VOC_STAGES[0], voc, 'train_dataloader')
    # train + SBD-only images, no val image
    val = (root / 'ImageSets' / 'Segmentation' / 'val.txt').read_text().split()
    stems = {Path(s['img_path']).stem for s in stage1}
    assert not stems & set(val)
    assert len(stems) == len(made_by_generator) - len(val)
