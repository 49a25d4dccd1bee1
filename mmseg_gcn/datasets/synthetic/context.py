"""A synthetic data set on which a pixel's class depends on a large region: the
*context set*, in the PASCAL VOC 2012 layout.

Why it exists. The paper's claim ("Large Kernel Matters", Sec. 3.1) is that a
per-pixel classifier needs dense connections to a large region around the
pixel: a small kernel sees too little of the object to name it. On the
control demo set (:func:`~mmseg_gcn.datasets.synthetic.voc.generate_voc_aug`)
every class has its own colour and texture, so a few pixels name the class
and nothing needs a large kernel. Here the opposite holds by construction.

Design, from that hypothesis:

- **Identical interiors.** There are four object classes, named by their
  outline: ``disc``, ``square``, ``triangle`` and ``cross`` (a plus sign).
  Every object of every class is painted with the *same* appearance (one
  colour and one stripe texture, jittered per instance by draws that do not
  depend on the class), so no window that lies inside an object tells its
  class. Only the outline does.
- **Large objects, far outlines.** A single object covers ``min_area`` to
  ``max_area`` of the image (15-35 % by default; two objects share that
  range; sizes are redrawn when two objects do not fit), so most of an
  object's pixels lie tens of pixels from its outline:
  far more than the few pixels a small kernel on top of a shallow backbone
  actually uses (its *valid* receptive field, the paper's Fig. 3).
- **Equal areas.** Each shape is scaled so that its area equals the drawn
  area, so size says nothing about the class; objects lie wholly inside the
  image and never overlap, so every outline is complete.
- **Easy figure-ground.** The background (blotches, clutter lines and
  specks, from the control set) differs from the objects locally, so telling
  object from background is easy for any head; what is hard is *which*
  object, and that is what the experiment measures.

A classifier that sees the whole object (a large kernel) can name every
pixel; one that sees a small window can only guess among the four shapes
away from the outline, which bounds its mIoU far below. Nothing else
(colour, texture, size, position) separates the classes, so a gap between a
large-kernel and a small-kernel head on this set is the effect of the
kernel's reach.

The set is written in VOC's layout (label values 0-4 in VOC's first five
colours), so mmseg's ``PascalVOCDataset`` reads it unchanged;
:class:`~mmseg_gcn.datasets.ContextShapesDataset` is that class with the
shapes' names (see ``configs/_base_/datasets/context-shapes_voc12.py``).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

# The painting and writing helpers are the control set's, so that both sets
# differ only in what the design above says.
from .dataset_root import DatasetSummary, PathLike, _finish_root, _prepare_root
from .drawing import IGNORE_INDEX, Appearance, _Canvas, _void_borders
from ...utils import check_int
from .sampling import _balanced_classes
from ..context_shapes import CONTEXT_CLASSES, CONTEXT_SHAPES
from .voc import (VOCSample, _voc_background, _voc_splits,
                  _write_voc_lists, _write_voc_sample)

__all__ = [
    'CONTEXT_SHAPES', 'CONTEXT_CLASSES',
    'OBJECT_APPEARANCE', 'generate_context_sample', 'generate_voc_context'
]


#: The one appearance every object has, whatever its class.
OBJECT_APPEARANCE = Appearance('object', (200, 70, 50), 'stripes', angle=0,
                               period=7, contrast=55)

# Margin, in pixels, between objects and from the image border.
_MARGIN = 3
# Layouts (object sizes) drawn for an image before giving up.
_LAYOUT_TRIES = 20


def _shape_polygon(shape: str, area: float) -> np.ndarray:
    """The outline of a shape of the given area, centred on the origin.

    Args:
        shape: One of :data:`CONTEXT_SHAPES`.
        area: Area in square pixels.

    Returns:
        ``(N, 2)`` float array of ``(x, y)`` vertices (y down).
    """
    if shape == 'disc':
        radius = math.sqrt(area / math.pi)
        phi = np.linspace(0, 2 * np.pi, 96, endpoint=False)
        return np.stack([radius * np.cos(phi), radius * np.sin(phi)], 1)
    if shape == 'square':
        half = math.sqrt(area) / 2
        return np.array([(-half, -half), (half, -half), (half, half), (-half, half)])
    if shape == 'triangle':
        # Equilateral, apex up: area = sqrt(3) / 4 * side^2; centred on its centroid.
        side = math.sqrt(4 * area / math.sqrt(3))
        height = side * math.sqrt(3) / 2
        return np.array([(0, -2 * height / 3), (side / 2, height / 3),
                         (-side / 2, height / 3)])
    if shape == 'cross':
        # A plus sign of extent L with arms L / 3 wide: area = 5 / 9 * L^2.
        extent = math.sqrt(9 * area / 5)
        a, b = extent / 2, extent / 6
        return np.array([(-b, -a), (b, -a), (b, -b), (a, -b), (a, b), (b, b), (b, a),
                         (-b, a), (-b, b), (-a, b), (-a, -b), (-b, -b)])
    raise ValueError(f'unknown shape {shape!r}, expected one of {CONTEXT_SHAPES}')


def _fill(polygon: np.ndarray, height: int, width: int) -> np.ndarray:
    """The ``(H, W)`` uint8 mask of a polygon in image coordinates, 1 inside."""
    mask = np.zeros((height, width), np.uint8)
    # shift=4: vertices in 1/16 px, so outlines are not snapped to the grid.
    cv2.fillPoly(mask, [np.round(polygon * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
    return mask


def _place(rng: np.random.Generator, polygons: Sequence[np.ndarray], height: int,
           width: int, tries: int = 100) -> Optional[List[np.ndarray]]:
    """Draws a position for each object, wholly inside the image and at least
    a margin away from the objects placed before it.

    Args:
        rng: Random generator.
        polygons: Outlines centred on the origin.
        height: Image height.
        width: Image width.
        tries: Positions tried per object.

    Returns:
        The objects' masks, or None if one found no free position.
    """
    kernel = np.ones((2 * _MARGIN + 1, 2 * _MARGIN + 1), np.uint8)
    taken = np.zeros((height, width), np.uint8)
    masks = []
    for polygon in polygons:
        (x0, y0), (x1, y1) = polygon.min(0), polygon.max(0)
        lo_x, hi_x = _MARGIN - x0, width - 1 - _MARGIN - x1
        lo_y, hi_y = _MARGIN - y0, height - 1 - _MARGIN - y1
        if lo_x > hi_x or lo_y > hi_y:
            return None
        for _ in range(tries):
            offset = np.array([rng.uniform(lo_x, hi_x), rng.uniform(lo_y, hi_y)])
            mask = _fill(polygon + offset, height, width)
            if not np.any(mask & taken):
                break
        else:
            return None
        masks.append(mask)
        taken |= cv2.dilate(mask, kernel)
    return masks


def generate_context_sample(rng: np.random.Generator, size: int,
                            class_ids: Sequence[int], min_area: float = 0.15,
                            max_area: float = 0.35, void_width: int = 2) -> VOCSample:
    """Generates one image of the context set with its VOC and SBD labels.

    Args:
        rng: Random generator; the sample is a deterministic function of its state.
        size: Image height and width, at least 64.
        class_ids: Classes (1..4, see :data:`CONTEXT_SHAPES`) of the objects, one or
            two.
        min_area: Smallest share of the image one object covers; with two
            objects each covers half as much.
        max_area: Largest share of the image one object covers (two: half).
        void_width: Width in pixels of the void band along object outlines in the
            VOC label.

    Returns:
        The image, its VOC label (with a void band) and its SBD label (without).

    Raises:
        ValueError: On bad sizes, areas or class ids, or objects that do not fit.
    """
    check_int(size, 'size', 64)
    check_int(void_width, 'void_width', 1)
    if not 0 < min_area <= max_area < 1:
        raise ValueError(f'need 0 < min_area <= max_area < 1, got {min_area}, '
                         f'{max_area}')
    if not 1 <= len(class_ids) <= 2:
        raise ValueError(f'an image holds 1 or 2 objects, got {len(class_ids)}')
    for class_id in class_ids:
        if not 1 <= int(class_id) <= len(CONTEXT_SHAPES):
            raise ValueError(f'context class ids are 1..{len(CONTEXT_SHAPES)}, '
                             f'got {class_id}')
    share = 1 / len(class_ids)
    shapes = [CONTEXT_SHAPES[int(c) - 1] for c in class_ids]
    for _ in range(_LAYOUT_TRIES):
        polygons = [_shape_polygon(shape, rng.uniform(min_area, max_area) * share * size
                                   * size) for shape in shapes]
        masks = _place(rng, polygons, size, size)
        if masks is not None:
            break
    else:
        raise ValueError(f'{" and ".join(shapes)} of {min_area:.0%}..{max_area:.0%} of '
                         f'a {size} px image found no place; lower max_area')
    canvas = _Canvas(size, size, rng)
    _voc_background(canvas)
    for class_id, mask in zip(class_ids, masks):
        # The stripes' direction and anchor are random: the texture is no class cue.
        centre = tuple(float(c) for c in np.argwhere(mask).mean(0)[::-1]
                       + rng.uniform(-20, 20, 2))
        appearance = Appearance(
            OBJECT_APPEARANCE.name, OBJECT_APPEARANCE.rgb, OBJECT_APPEARANCE.texture,
            angle=float(rng.uniform(0, 180)), period=OBJECT_APPEARANCE.period,
            contrast=OBJECT_APPEARANCE.contrast)
        canvas.paint(mask, int(class_id), appearance, centre, size / 4)
    image = canvas.finish()
    label = canvas.label.copy()
    label[_void_borders(canvas.instances, void_width)] = IGNORE_INDEX
    return VOCSample(image, label, canvas.label.copy())


def generate_voc_context(out: PathLike, num_train: int = 400, num_aug: int = 0,
                         num_val: int = 100, size: int = 128, seed: int = 0,
                         min_area: float = 0.15, max_area: float = 0.35,
                         two_object_share: float = 0.4,
                         void_width: int = 2) -> DatasetSummary:
    """Writes the context set in the PASCAL VOC 2012 + SBD aug layout.

    The folders and lists are those of
    :func:`~mmseg_gcn.datasets.synthetic.voc.generate_voc_aug`. Classes are balanced
    within each split.

    Args:
        out: Output folder; the data set is written to ``<out>/VOCdevkit/VOC2012``.
        num_train: Images in ``train.txt``.
        num_aug: Aug-only images in ``aug.txt`` (may be 0).
        num_val: Images in ``val.txt``.
        size: Image height and width, at least 64.
        seed: Non-negative random seed; the same arguments give identical files.
        min_area: Smallest share of the image a lone object covers.
        max_area: Largest share of the image a lone object covers.
        two_object_share: Fraction of images with two objects (the rest have one).
        void_width: Width of the void band along object outlines in VOC labels.

    Returns:
        What was written.

    Raises:
        ValueError: On bad counts, sizes, areas or seed.
        FileExistsError: If the data set root holds data not written by the
            generator.
    """
    check_int(num_train, 'num_train', 1)
    check_int(num_aug, 'num_aug', 0)
    check_int(num_val, 'num_val', 1)
    check_int(size, 'size', 64)
    check_int(seed, 'seed', 0)
    check_int(void_width, 'void_width', 1)
    if not 0 <= two_object_share <= 1:
        raise ValueError(f'two_object_share must be in [0, 1], got {two_object_share}')
    if not 0 < min_area <= max_area < 1:
        raise ValueError(f'need 0 < min_area <= max_area < 1, got {min_area}, '
                         f'{max_area}')
    root = Path(out) / 'VOCdevkit' / 'VOC2012'
    params = dict(generator='voc_context', num_train=num_train, num_aug=num_aug,
                  num_val=num_val, size=size, seed=seed, min_area=min_area,
                  max_area=max_area, two_object_share=two_object_share,
                  void_width=void_width)
    _prepare_root(root, ('JPEGImages', 'SegmentationClass', 'SegmentationClassAug',
                         'ImageSets'), params)

    seeds = np.random.SeedSequence([seed, 0xC7])
    layout_rng = np.random.default_rng(seeds.spawn(1)[0])
    splits = _voc_splits(layout_rng, num_train, num_aug, num_val)
    image_seeds = iter(seeds.spawn(num_train + num_aug + num_val))
    num_files = 1
    for split, names in splits.items():
        counts = (1 + (layout_rng.random(len(names)) < two_object_share)).tolist()
        classes = _balanced_classes(layout_rng, counts, range(1, len(CONTEXT_CLASSES)))
        for stem, class_ids in zip(names, classes):
            rng = np.random.default_rng(next(image_seeds))
            sample = generate_context_sample(rng, size, class_ids, min_area, max_area,
                                             void_width)
            num_files += _write_voc_sample(root, stem, split, sample)
    num_files += _write_voc_lists(root, splits)
    return _finish_root(root, params, {k: len(v) for k, v in splits.items()}, num_files)
