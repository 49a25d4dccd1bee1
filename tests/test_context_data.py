"""The context set: real VOC layout, determinism, and labels that agree with
the images in the way the design says (identical interiors, outlines decide)."""
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config
from mmseg.datasets import PascalVOCDataset
from mmseg.registry import DATASETS
from PIL import Image

from conftest import REPO
from mmseg_gcn.datasets.synthetic.context import (CONTEXT_SHAPES,
                                                  generate_context_sample,
                                                  generate_voc_context)

CONFIG = REPO / 'configs' / 'context' / 'gcn_r18-s8_1xb8-1.2k_context-128x128.py'
COUNTS = dict(num_train=12, num_val=8, size=96)


@pytest.fixture(scope='module')
def context_root(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp('context')
    return generate_voc_context(out, **COUNTS, seed=0).root


def _files(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes()
            for p in sorted(root.rglob('*')) if p.is_file()}


def _stems(root: Path, split: str) -> list:
    return (root / 'ImageSets' / 'Segmentation' / f'{split}.txt').read_text().split()


def test_same_seed_gives_identical_files(context_root, tmp_path):
    again = generate_voc_context(tmp_path, **COUNTS, seed=0).root
    assert _files(again) == _files(context_root)
    other = generate_voc_context(tmp_path / 'other', **COUNTS, seed=1).root
    assert _files(other) != _files(context_root)


@pytest.mark.slow
def test_mmseg_voc_dataset_reads_it(context_root):
    cfg = Config.fromfile(CONFIG)
    dataset_cfg = cfg.val_dataloader.dataset
    dataset_cfg.data_root = str(context_root)
    dataset = DATASETS.build(dataset_cfg)
    assert type(dataset).__name__ == 'ContextShapesDataset'
    assert isinstance(dataset, PascalVOCDataset)
    assert len(dataset) == COUNTS['num_val']
    assert dataset.metainfo['classes'] == ('background', 'disc', 'square',
                                           'triangle', 'cross')
    assert dataset.metainfo['palette'] == [[0, 0, 0], [128, 0, 0],
                                           [0, 128, 0], [128, 128, 0],
                                           [0, 0, 128]]
    sample = dataset[0]['data_samples']
    label = sample.gt_sem_seg.data[0].numpy()
    assert label.shape == (COUNTS['size'], COUNTS['size'])
    assert set(np.unique(label)) <= {0, 1, 2, 3, 4, 255}


def test_every_split_holds_every_shape(context_root):
    for split in ('train', 'val'):
        present = set()
        for stem in _stems(context_root, split):
            label = np.array(Image.open(
                context_root / 'SegmentationClassAug' / f'{stem}.png'))
            present |= set(np.unique(label).tolist())
        assert present == {0, 1, 2, 3, 4}, split


def test_labels_agree_with_images(context_root):
    """Object pixels carry the one object colour (red), background pixels
    do not: a label shifted against its image fails this."""
    for stem in _stems(context_root, 'train'):
        image = np.asarray(Image.open(context_root / 'JPEGImages' / f'{stem}.jpg'),
                           np.float32)
        label = np.array(Image.open(
            context_root / 'SegmentationClassAug' / f'{stem}.png'))
        redness = image[..., 0] - image[..., 1:].mean(-1)
        inside, outside = redness[label > 0], redness[label == 0]
        assert inside.mean() > outside.mean() + 40, stem
        shifted = np.roll(label, label.shape[1] // 2, axis=1)
        assert redness[shifted > 0].mean() < inside.mean() - 20, stem


def test_shapes_have_equal_areas_and_identical_interiors():
    """Size and interior colour say nothing about the class."""
    areas, colours = {}, {}
    for i, shape in enumerate(CONTEXT_SHAPES, 1):
        rng = np.random.default_rng(7)  # same draws for every shape
        sample = generate_context_sample(rng, 128, [i], 0.25, 0.25)
        mask = sample.label_aug == i
        areas[shape] = int(mask.sum())
        colours[shape] = sample.image[mask].mean(0)
    reference = areas['disc']
    for shape, area in areas.items():
        assert abs(area - reference) < 0.03 * reference, (shape, areas)
        assert np.abs(colours[shape] - colours['disc']).max() < 12, colours


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError, match='max_area'):
        generate_voc_context(tmp_path, **COUNTS, min_area=0.5, max_area=0.2)
    with pytest.raises(ValueError, match='no place'):
        generate_voc_context(tmp_path / 'big', **COUNTS, min_area=0.9,
                             max_area=0.95)
    with pytest.raises(ValueError, match='1..4'):
        generate_context_sample(np.random.default_rng(0), 96, [5])


def test_an_interrupted_generation_is_not_taken_for_a_finished_one(
        tmp_path, monkeypatch):
    from mmseg_gcn.datasets import synthetic
    from mmseg_gcn.datasets.synthetic import context as context_shapes

    def fail(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(context_shapes, '_write_voc_lists', fail)
    with pytest.raises(KeyboardInterrupt):
        generate_voc_context(tmp_path, **COUNTS, seed=0)
    root = tmp_path / 'VOCdevkit' / 'VOC2012'
    assert (root / 'JPEGImages').is_dir()
    assert synthetic.generation_params(root) is None
    monkeypatch.undo()
    generate_voc_context(tmp_path, **COUNTS, seed=0)
    assert synthetic.generation_params(root)['seed'] == 0
