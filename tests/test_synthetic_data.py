"""The synthetic demo data: real on-disk layouts, valid labels, determinism, errors."""
import filecmp
from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest
from PIL import Image

from mmseg_gcn.datasets.synthetic import (CITYSCAPES_CLASSES, VOC_APPEARANCE, VOC_CLASSES,
                                          VOC_PALETTE, generate_cityscapes,
                                          generate_cityscapes_sample, generate_voc_aug,
                                          generate_voc_sample)

VOC_COUNTS = dict(num_train=48, num_aug=16, num_val=16)  # the defaults
CS_COUNTS = dict(num_train=5, num_val=3, num_extra=4)
VOC_VALUES = set(range(21)) | {255}
CS_VALUES = set(range(19)) | {255}


@pytest.fixture(scope='module')
def voc_root(tmp_path_factory) -> Path:
    """A VOC aug data set made with the default arguments."""
    out = tmp_path_factory.mktemp('voc')
    summary = generate_voc_aug(out, **VOC_COUNTS, seed=0)
    assert summary.root == out / 'VOCdevkit' / 'VOC2012'
    return summary.root


@pytest.fixture(scope='module')
def cs_root(tmp_path_factory) -> Path:
    """A small Cityscapes data set."""
    out = tmp_path_factory.mktemp('cityscapes')
    summary = generate_cityscapes(out, **CS_COUNTS, width=128, seed=0)
    assert summary.root == out / 'cityscapes'
    return summary.root


def _read_list(path: Path) -> List[str]:
    return path.read_text().split()


def _voc_lists(root: Path) -> Dict[str, List[str]]:
    lists = root / 'ImageSets' / 'Segmentation'
    return {name: _read_list(lists / f'{name}.txt')
            for name in ('train', 'val', 'trainval', 'aug', 'trainaug')}


def _files(root: Path) -> Dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob('*'))
            if p.is_file()}


def test_voc_layout_and_lists(voc_root):
    lists = _voc_lists(voc_root)
    assert len(lists['train']) == VOC_COUNTS['num_train']
    assert len(lists['aug']) == VOC_COUNTS['num_aug']
    assert len(lists['val']) == VOC_COUNTS['num_val']
    assert sorted(lists['trainval']) == sorted(lists['train'] + lists['val'])
    assert sorted(lists['trainaug']) == sorted(lists['train'] + lists['aug'])
    # As in mmseg's voc_aug converter, the aug list excludes train and val images.
    assert not set(lists['aug']) & set(lists['val'])
    assert not set(lists['aug']) & set(lists['train'])
    assert not set(lists['train']) & set(lists['val'])
    for stem in lists['train'] + lists['val'] + lists['aug']:
        assert len(stem) == 11 and stem[4] == '_' and stem[:4].isdigit()  # 2007_000032
        assert (voc_root / 'JPEGImages' / f'{stem}.jpg').is_file()
        assert (voc_root / 'SegmentationClassAug' / f'{stem}.png').is_file()
        has_voc_label = (voc_root / 'SegmentationClass' / f'{stem}.png').is_file()
        assert has_voc_label == (stem not in lists['aug'])
    assert len(list((voc_root / 'JPEGImages').iterdir())) == sum(VOC_COUNTS.values())


def test_voc_images_and_labels(voc_root):
    lists = _voc_lists(voc_root)
    sizes = set()
    seen_in_train = set()
    void_pixels = 0
    for stem in lists['train'] + lists['val']:
        image = Image.open(voc_root / 'JPEGImages' / f'{stem}.jpg')
        label = Image.open(voc_root / 'SegmentationClass' / f'{stem}.png')
        label_aug = Image.open(voc_root / 'SegmentationClassAug' / f'{stem}.png')
        assert image.format == 'JPEG' and image.mode == 'RGB'
        assert label.mode == 'P' and label.getpalette()[:768] == VOC_PALETTE
        assert label_aug.mode == 'L'
        assert image.size == label.size == label_aug.size
        sizes.add(image.size)
        values = np.asarray(label)
        values_aug = np.asarray(label_aug)
        assert set(np.unique(values).tolist()) <= VOC_VALUES
        assert set(np.unique(values_aug).tolist()) <= set(range(21))  # SBD has no void
        # The VOC label is the SBD one with void borders on top.
        known = values != 255
        assert np.array_equal(values[known], values_aug[known])
        void_pixels += int((~known).sum())
        if stem in lists['train']:
            seen_in_train |= set(np.unique(values).tolist())
    assert void_pixels > 0
    assert seen_in_train >= set(range(21))
    assert all(96 <= s <= 128 for size in sizes for s in size)
    assert len(sizes) > 10 and any(s % 32 for size in sizes for s in size)


def test_voc_void_borders_follow_outlines():
    sample = generate_voc_sample(np.random.default_rng(3), 100, 120, class_ids=[1, 7, 15])
    void = sample.label == 255
    assert void.any()
    # Every void pixel lies next to a change of class in the dense label.
    dense = sample.label_aug
    padded = np.pad(dense, 2, mode='edge')
    near_change = np.zeros_like(void)
    for dy in range(-2, 3):
        for dx in range(-2, 3):
            shifted = padded[2 + dy:2 + dy + dense.shape[0], 2 + dx:2 + dx + dense.shape[1]]
            near_change |= shifted != dense
    assert near_change[void].all()
    assert {1, 7, 15} <= set(np.unique(dense).tolist())
    assert sample.image.shape == (100, 120, 3) and sample.image.dtype == np.uint8


def test_appearance_table_matches_classes():
    assert len(VOC_APPEARANCE) == len(VOC_CLASSES) == 21
    assert len(CITYSCAPES_CLASSES) == 19
    # Classes must not be told apart by colour alone, nor by texture alone.
    appearances = VOC_APPEARANCE[1:]
    assert len({(a.rgb, a.texture, a.angle) for a in appearances}) == len(appearances)
    assert len({a.rgb for a in appearances}) < len(appearances)
    assert len({a.texture for a in appearances}) < len(appearances)


def test_cityscapes_layout_and_labels(cs_root):
    expected = {'train': ('gtFine', '_gtFine_labelTrainIds.png', CS_COUNTS['num_train']),
                'val': ('gtFine', '_gtFine_labelTrainIds.png', CS_COUNTS['num_val']),
                'train_extra': ('gtCoarse', '_gtCoarse_labelTrainIds.png',
                                CS_COUNTS['num_extra'])}
    for split, (gt_dir, suffix, count) in expected.items():
        images = sorted((cs_root / 'leftImg8bit' / split).glob('*/*_leftImg8bit.png'))
        assert len(images) == count
        for path in images:
            city = path.parent.name
            stem = path.name[:-len('_leftImg8bit.png')]
            parts = stem.split('_')
            assert parts[0] == city and len(parts) == 3
            assert all(len(p) == 6 and p.isdigit() for p in parts[1:])
            label_path = cs_root / gt_dir / split / city / f'{stem}{suffix}'
            image = Image.open(path)
            label = Image.open(label_path)
            assert image.mode == 'RGB' and image.size == (128, 64)
            assert label.mode == 'L' and label.size == image.size
            values = np.asarray(label)
            assert set(np.unique(values).tolist()) <= CS_VALUES
            if split == 'train_extra':
                assert (values == 255).mean() > 0.2  # coarse: much is left unlabelled
    for split in ('train', 'val'):
        names = _read_list(cs_root / f'{split}.txt')
        assert len(names) == expected[split][2]
        for name in names:
            assert (cs_root / 'leftImg8bit' / split / f'{name}_leftImg8bit.png').is_file()


def test_cityscapes_sample_labels_fit_the_scene():
    sample = generate_cityscapes_sample(np.random.default_rng(1), 128, 256, [13, 11, 18])
    assert sample.image.shape == (128, 256, 3)
    values = set(np.unique(sample.label).tolist())
    assert values <= CS_VALUES and {0, 10, 13} <= values  # road, sky, car
    labelled = sample.label_coarse != 255
    # Coarse polygons sit inside the fine regions of the same class, up to a few pixels.
    agree = (sample.label_coarse == sample.label)[labelled].mean()
    assert labelled.mean() < 0.9 and agree > 0.95


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    counts = dict(num_train=3, num_aug=2, num_val=2, seed=7)
    first = generate_voc_aug(tmp_path / 'a', **counts).root
    second = generate_voc_aug(tmp_path / 'b', **counts).root
    assert _files(first) == _files(second)
    cs_first = generate_cityscapes(tmp_path / 'a', 2, 1, 1, width=128, seed=7).root
    cs_second = generate_cityscapes(tmp_path / 'b', 2, 1, 1, width=128, seed=7).root
    assert _files(cs_first) == _files(cs_second)
    other = generate_voc_aug(tmp_path / 'c', **dict(counts, seed=8)).root
    assert _files(other) != _files(first)
    image = 'JPEGImages/' + _voc_lists(first)['train'][0] + '.jpg'
    assert not (other / image).is_file() or not filecmp.cmp(
        first / image, other / image, shallow=False)


def test_rewrite_replaces_previous_files(tmp_path):
    generate_voc_aug(tmp_path, num_train=6, num_aug=2, num_val=2, seed=0)
    root = generate_voc_aug(tmp_path, num_train=2, num_aug=1, num_val=1, seed=1).root
    fresh = generate_voc_aug(tmp_path / 'fresh', num_train=2, num_aug=1, num_val=1,
                             seed=1).root
    assert _files(root) == _files(fresh)


def test_foreign_folder_is_not_overwritten(tmp_path):
    real = tmp_path / 'cityscapes' / 'leftImg8bit'
    real.mkdir(parents=True)
    (real / 'keep.png').write_bytes(b'data')
    with pytest.raises(FileExistsError, match='not written by'):
        generate_cityscapes(tmp_path, 1, 1, 1, width=64)
    assert (real / 'keep.png').read_bytes() == b'data'


@pytest.mark.parametrize('kwargs', [
    dict(num_train=0), dict(num_aug=-1), dict(num_val=0), dict(min_side=16),
    dict(min_side=100, max_side=90), dict(seed=-1), dict(num_train=2.5)])
def test_voc_bad_arguments(tmp_path, kwargs):
    with pytest.raises(ValueError):
        generate_voc_aug(tmp_path, **kwargs)
    assert not (tmp_path / 'VOCdevkit').exists()


@pytest.mark.parametrize('kwargs', [
    dict(num_train=0), dict(num_val=-3), dict(num_extra=0), dict(width=32),
    dict(width=129)])
def test_cityscapes_bad_arguments(tmp_path, kwargs):
    with pytest.raises(ValueError):
        generate_cityscapes(tmp_path, **kwargs)
    assert not (tmp_path / 'cityscapes').exists()


def test_single_sample_bad_arguments():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError):
        generate_voc_sample(rng, 16, 64)
    with pytest.raises(ValueError):
        generate_voc_sample(rng, 64, 64, class_ids=[0])
    with pytest.raises(ValueError):
        generate_cityscapes_sample(rng, 64, 128, class_ids=[3])


def test_mmseg_reads_voc_aug(voc_root):
    mmseg_datasets = pytest.importorskip('mmseg.datasets')
    lists = _voc_lists(voc_root)
    assert list(mmseg_datasets.PascalVOCDataset.METAINFO['classes']) == list(VOC_CLASSES)
    palette = np.array(VOC_PALETTE[:63]).reshape(21, 3).tolist()
    assert mmseg_datasets.PascalVOCDataset.METAINFO['palette'] == palette
    for ann_file, seg_dir, split in (('train.txt', 'SegmentationClass', 'train'),
                                     ('aug.txt', 'SegmentationClassAug', 'aug'),
                                     ('val.txt', 'SegmentationClass', 'val')):
        dataset = mmseg_datasets.PascalVOCDataset(
            data_root=str(voc_root),
            data_prefix=dict(img_path='JPEGImages', seg_map_path=seg_dir),
            ann_file=f'ImageSets/Segmentation/{ann_file}',
            pipeline=[])
        assert len(dataset) == len(lists[split])
        for i in range(len(dataset)):
            info = dataset.get_data_info(i)
            assert Path(info['img_path']).is_file()
            assert Path(info['seg_map_path']).is_file()


def test_mmseg_loads_voc_labels_as_class_indices(voc_root):
    pytest.importorskip('mmseg')
    from mmseg.datasets.transforms import LoadAnnotations
    stem = _voc_lists(voc_root)['train'][0]
    path = voc_root / 'SegmentationClass' / f'{stem}.png'
    results = LoadAnnotations()(dict(seg_map_path=str(path), reduce_zero_label=False,
                                     seg_fields=[]))
    assert np.array_equal(results['gt_seg_map'], np.asarray(Image.open(path)))


def test_mmseg_reads_cityscapes(cs_root):
    mmseg_datasets = pytest.importorskip('mmseg.datasets')
    assert list(mmseg_datasets.CityscapesDataset.METAINFO['classes']) == list(
        CITYSCAPES_CLASSES)
    for split, count in (('train', CS_COUNTS['num_train']), ('val', CS_COUNTS['num_val'])):
        dataset = mmseg_datasets.CityscapesDataset(
            data_root=str(cs_root),
            data_prefix=dict(img_path=f'leftImg8bit/{split}', seg_map_path=f'gtFine/{split}'),
            pipeline=[])
        assert len(dataset) == count
        for i in range(len(dataset)):
            info = dataset.get_data_info(i)
            assert Path(info['img_path']).is_file()
            assert Path(info['seg_map_path']).is_file()
    coarse = mmseg_datasets.CityscapesDataset(
        data_root=str(cs_root),
        data_prefix=dict(img_path='leftImg8bit/train_extra',
                         seg_map_path='gtCoarse/train_extra'),
        seg_map_suffix='_gtCoarse_labelTrainIds.png', pipeline=[])
    assert len(coarse) == CS_COUNTS['num_extra']
    assert all(Path(coarse.get_data_info(i)['seg_map_path']).is_file()
               for i in range(len(coarse)))
