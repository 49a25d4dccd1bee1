"""Synthetic PASCAL VOC 2012 + SBD aug, under ``<out>/VOCdevkit/VOC2012/``::

    JPEGImages/<stem>.jpg                  every image (train, val and aug-only)
    SegmentationClass/<stem>.png           VOC labels of train and val: palette ('P')
                                           PNGs, class indices 0..20, 255 = void border
    SegmentationClassAug/<stem>.png        SBD-style labels of every image: grey PNGs,
                                           class indices 0..20, no void border
    ImageSets/Segmentation/train.txt       VOC train stems
    ImageSets/Segmentation/val.txt         VOC val stems
    ImageSets/Segmentation/trainval.txt    train + val
    ImageSets/Segmentation/aug.txt         aug-only stems (excludes train and val)
    ImageSets/Segmentation/trainaug.txt    train + aug (excludes val)

The lists follow ``tools/dataset_converters/voc_aug.py`` of MMSegmentation.
Every class has its own appearance (:data:`VOC_APPEARANCE`); objects of varied
shape, size and position overlap over a cluttered background.
"""
from __future__ import annotations

import colorsys
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import cv2
import numpy as np
from PIL import Image

from ..palette import voc_palette
from .dataset_root import (DatasetSummary, PathLike, _encode, _finish_root,
                           _prepare_root, _save_pil, _write_bytes, _write_list)
from .drawing import (IGNORE_INDEX, SHAPES, Appearance, _Canvas, _shape_mask,
                      _smooth_field, _void_borders)
from ...utils import check_int
from .sampling import _balanced_classes

__all__ = [
    'VOC_APPEARANCE', 'VOC_CLASSES', 'VOC_PALETTE', 'VOCSample', 'generate_voc_sample',
    'generate_voc_aug'
]

_JPEG_QUALITY = 90


# Class id -> appearance. Pairs told apart only by texture: aeroplane/cow/sheep
# (near-white), bicycle/bird (red), boat/car (blue), bottle/pottedplant (green),
# cat/dog (orange), chair/diningtable (brown), horse/sofa (purple). Pairs told apart
# only by colour: the stripes of aeroplane/boat/diningtable/tvmonitor, bottle/train,
# the checkers of bus/car/cow/sofa, the dots of dog/pottedplant. The background
# (class 0) is low-saturation blotches with clutter, see ``_voc_background``.
#: Appearance of each PASCAL VOC class, indexed by class id.
VOC_APPEARANCE: Tuple[Appearance, ...] = (
    Appearance('background', (128, 128, 128), 'flat'),
    Appearance('aeroplane', (222, 224, 232), 'stripes', angle=0, period=8),
    Appearance('bicycle', (200, 40, 40), 'grid', angle=0, period=7),
    Appearance('bird', (200, 40, 40), 'flat'),
    Appearance('boat', (40, 70, 200), 'stripes', angle=0, period=8),
    Appearance('bottle', (40, 160, 60), 'stripes', angle=90, period=7),
    Appearance('bus', (230, 200, 40), 'checker', angle=0, period=8),
    Appearance('car', (40, 70, 200), 'checker', angle=0, period=8),
    Appearance('cat', (230, 130, 30), 'stripes', angle=45, period=8),
    Appearance('chair', (135, 85, 40), 'grain', contrast=70),
    Appearance('cow', (222, 224, 232), 'checker', angle=45, period=9),
    Appearance('diningtable', (135, 85, 40), 'stripes', angle=0, period=6),
    Appearance('dog', (230, 130, 30), 'dots', angle=0, period=7),
    Appearance('horse', (130, 50, 170), 'gradient', angle=90, contrast=70),
    Appearance('motorbike', (210, 50, 160), 'stripes', angle=135, period=8),
    Appearance('person', (240, 160, 170), 'rings', period=8),
    Appearance('pottedplant', (40, 160, 60), 'dots', angle=0, period=7),
    Appearance('sheep', (190, 190, 190), 'grain', contrast=75),
    Appearance('sofa', (130, 50, 170), 'checker', angle=0, period=8),
    Appearance('train', (30, 170, 170), 'stripes', angle=90, period=8),
    Appearance('tvmonitor', (45, 45, 60), 'stripes', angle=0, period=4, contrast=45),
)

#: PASCAL VOC class names, in the order of MMSegmentation's ``PascalVOCDataset``.
VOC_CLASSES: Tuple[str, ...] = tuple(a.name for a in VOC_APPEARANCE)

#: Palette of VOC ``SegmentationClass`` PNGs, flat list of 768 values.
VOC_PALETTE: List[int] = voc_palette()


class VOCSample(NamedTuple):
    """One synthetic VOC image with its labels.

    Attributes:
        image: RGB image, ``(H, W, 3)`` uint8.
        label: VOC-style label, ``(H, W)`` uint8 class indices with a void (255) band
            along every object outline (``SegmentationClass``).
        label_aug: SBD-style label of the same image, without void
            (``SegmentationClassAug``).
    """

    image: np.ndarray
    label: np.ndarray
    label_aug: np.ndarray


def _voc_background(canvas: _Canvas) -> None:
    """Paints the VOC background (class 0): blotchy low-saturation tones and clutter.

    Args:
        canvas: Canvas to paint on; its label stays 0.
    """
    rng = canvas.rng
    height, width = canvas.label.shape
    tone = np.array(
        colorsys.hsv_to_rgb(rng.uniform(), rng.uniform(0.05, 0.3), rng.uniform(0.35, 0.8)),
        np.float32) * 255
    image = np.broadcast_to(tone, (height, width, 3)).copy()
    if rng.random() < 0.5:
        # A second surface (a floor below a wall), with a slanted edge.
        other = np.array(
            colorsys.hsv_to_rgb(rng.uniform(), rng.uniform(0.05, 0.3),
                                rng.uniform(0.35, 0.8)), np.float32) * 255
        edge = rng.uniform(0.4, 0.8) * height + (canvas.xx - width / 2) * rng.uniform(-0.3, 0.3)
        image[canvas.yy > edge] = other
    image += 30 * _smooth_field(rng, height, width, int(rng.integers(3, 7)))[..., None]
    image += 8 * rng.standard_normal((height, width, 1)).astype(np.float32)  # fine grain
    # Distractors: thin lines and specks of any colour, too small to be objects.
    for _ in range(int(rng.integers(3, 9))):
        colour = tuple(float(c) * 255 for c in colorsys.hsv_to_rgb(
            rng.uniform(), rng.uniform(0, 0.8), rng.uniform(0.2, 1.0)))
        p0 = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        if rng.random() < 0.5:
            length = rng.uniform(0.1, 0.4) * min(height, width)
            phi = rng.uniform(0, 2 * np.pi)
            p1 = (int(p0[0] + length * np.cos(phi)), int(p0[1] + length * np.sin(phi)))
            cv2.line(image, p0, p1, colour, 1, cv2.LINE_AA)
        else:
            cv2.circle(image, p0, int(rng.integers(1, 4)), colour, -1, cv2.LINE_AA)
    canvas.image[:] = image


def generate_voc_sample(rng: np.random.Generator, height: int, width: int,
                        class_ids: Optional[Sequence[int]] = None,
                        void_width: int = 2) -> VOCSample:
    """Generates one synthetic PASCAL VOC image with its VOC and SBD labels.

    Objects are painted in the given order over a cluttered background, each with a
    random shape (:data:`SHAPES`), a largest diameter of 15..60 % of the shorter image
    side and a random position (so they may touch the border). A placement that hides
    more than 60 % of an earlier object is re-drawn a few times.

    Args:
        rng: Random generator; the sample is a deterministic function of its state.
        height: Image height, at least 32.
        width: Image width, at least 32.
        class_ids: Classes (1..20) of the objects, painted in this order; default 2..5
            random classes.
        void_width: Width in pixels of the void band along object outlines.

    Returns:
        The image with its VOC (with void) and SBD (without void) labels.

    Raises:
        ValueError: If the size is below 32 or a class id is out of 1..20.
    """
    check_int(height, 'height', 32)
    check_int(width, 'width', 32)
    check_int(void_width, 'void_width', 1)
    num_classes = len(VOC_APPEARANCE)
    if class_ids is None:
        class_ids = rng.integers(1, num_classes, size=int(rng.integers(2, 6))).tolist()
    for class_id in class_ids:
        if not 1 <= int(class_id) < num_classes:
            raise ValueError(f'VOC object class ids must be in 1..{num_classes - 1}, '
                             f'got {class_id}')
    canvas = _Canvas(height, width, rng)
    _voc_background(canvas)
    side = min(height, width)
    for class_id in class_ids:
        for _ in range(6):
            extent = rng.uniform(0.15, 0.6) * side
            centre = (rng.uniform(0.1, 0.9) * width, rng.uniform(0.1, 0.9) * height)
            mask = _shape_mask(rng, SHAPES[int(rng.integers(len(SHAPES)))], height, width,
                               centre, extent)
            if mask.sum() >= 0.02 * side * side and canvas.occlusion_ok(mask):
                break
        # After the last try the object is painted anyway: its class must be present.
        canvas.paint(mask, int(class_id), VOC_APPEARANCE[int(class_id)], centre, extent / 2)
    image = canvas.finish()
    label_aug = canvas.label.copy()
    label = canvas.label.copy()
    label[_void_borders(canvas.instances, void_width)] = IGNORE_INDEX
    return VOCSample(image, label, label_aug)


def _voc_stems(rng: np.random.Generator, n: int) -> List[str]:
    """Draws ``n`` distinct VOC-style image names (``2007_000032``)."""
    stems = []
    for i in range(n):
        # Years 2007..2011 as in VOC2012 segmentation; increasing numbers per year.
        year = 2007 + i % 5
        stems.append((year, i // 5))
    numbers = {year: np.cumsum(rng.integers(1, 40, size=n)) for year in range(2007, 2012)}
    return [f'{year}_{int(numbers[year][k]):06d}' for year, k in stems]


def _voc_splits(layout_rng: np.random.Generator, num_train: int, num_aug: int,
                num_val: int) -> Dict[str, List[str]]:
    """Draws VOC-style image names and deals them into the train, aug and val
    splits (each sorted, as VOC's lists are)."""
    total = num_train + num_aug + num_val
    stems = _voc_stems(layout_rng, total)
    order = layout_rng.permutation(total)
    return {
        'train': sorted(stems[i] for i in order[:num_train]),
        'aug': sorted(stems[i] for i in order[num_train:num_train + num_aug]),
        'val': sorted(stems[i] for i in order[num_train + num_aug:]),
    }


def _write_voc_sample(root: Path, stem: str, split: str, sample: VOCSample) -> int:
    """Writes one image and its labels in the VOC aug layout; returns the number
    of files written (aug-only images have no ``SegmentationClass`` label)."""
    _write_bytes(root / 'JPEGImages' / f'{stem}.jpg',
                 _encode('.jpg', sample.image, [cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY]))
    # Grey PNGs of class indices, as MMSegmentation's voc_aug converter writes.
    _save_pil(root / 'SegmentationClassAug' / f'{stem}.png',
              Image.fromarray(sample.label_aug))
    if split == 'aug':
        return 2
    label = Image.fromarray(sample.label, mode='P')
    label.putpalette(VOC_PALETTE)
    _save_pil(root / 'SegmentationClass' / f'{stem}.png', label)
    return 3


def _write_voc_lists(root: Path, splits: Dict[str, List[str]]) -> int:
    """Writes the ``ImageSets/Segmentation`` lists; returns how many."""
    lists = root / 'ImageSets' / 'Segmentation'
    named = (('train', splits['train']), ('val', splits['val']),
             ('trainval', sorted(splits['train'] + splits['val'])),
             ('aug', splits['aug']), ('trainaug', sorted(splits['train'] + splits['aug'])))
    for name, stems in named:
        _write_list(lists / f'{name}.txt', stems)
    return len(named)


def generate_voc_aug(out: PathLike, num_train: int = 48, num_aug: int = 16,
                     num_val: int = 16, min_side: int = 96, max_side: int = 128,
                     seed: int = 0, void_width: int = 2) -> DatasetSummary:
    """Writes a synthetic PASCAL VOC 2012 + SBD aug data set.

    Each image's height and width are drawn independently from
    ``[min_side, max_side]``. Object classes are balanced within each split, so every
    class is present in train (and in val) once the split holds 20 objects or more
    (3.5 per image on average).

    Args:
        out: Output folder; the data set is written to ``<out>/VOCdevkit/VOC2012``.
        num_train: Images in ``train.txt`` (``SegmentationClass`` labels).
        num_aug: Aug-only images in ``aug.txt`` (``SegmentationClassAug`` labels only).
        num_val: Images in ``val.txt``.
        min_side: Smallest image side, at least 32.
        max_side: Largest image side, at least ``min_side``.
        seed: Non-negative random seed; the same arguments give identical files.
        void_width: Width of the void band along object outlines in VOC labels.

    Returns:
        What was written.

    Raises:
        ValueError: On non-positive counts, too small sizes or a negative seed.
        FileExistsError: If the data set root holds data not written by a generator.
    """
    for name, value in (('num_train', num_train), ('num_aug', num_aug),
                        ('num_val', num_val)):
        check_int(value, name, 1)
    check_int(min_side, 'min_side', 32)
    check_int(max_side, 'max_side', min_side)
    check_int(seed, 'seed', 0)
    check_int(void_width, 'void_width', 1)
    root = Path(out) / 'VOCdevkit' / 'VOC2012'
    params = dict(generator='voc_aug', num_train=num_train, num_aug=num_aug,
                  num_val=num_val, min_side=min_side, max_side=max_side, seed=seed,
                  void_width=void_width)
    _prepare_root(root, ('JPEGImages', 'SegmentationClass', 'SegmentationClassAug',
                         'ImageSets'), params)

    seeds = np.random.SeedSequence([seed, 0x0C])
    layout_rng = np.random.default_rng(seeds.spawn(1)[0])
    splits = _voc_splits(layout_rng, num_train, num_aug, num_val)
    image_seeds = iter(seeds.spawn(num_train + num_aug + num_val))
    num_files = 1
    for split, names in splits.items():
        counts = layout_rng.integers(2, 6, size=len(names)).tolist()
        classes = _balanced_classes(layout_rng, counts, range(1, len(VOC_APPEARANCE)))
        for stem, class_ids in zip(names, classes):
            rng = np.random.default_rng(next(image_seeds))
            height, width = (int(s) for s in rng.integers(min_side, max_side + 1, size=2))
            sample = generate_voc_sample(rng, height, width, class_ids, void_width)
            num_files += _write_voc_sample(root, stem, split, sample)
    num_files += _write_voc_lists(root, splits)
    return _finish_root(root, params, {k: len(v) for k, v in splits.items()}, num_files)
