"""Synthetic Cityscapes, under ``<out>/cityscapes/``::

    leftImg8bit/{train,val,train_extra}/<city>/<city>_<seq>_<frame>_leftImg8bit.png
    gtFine/{train,val}/<city>/<city>_<seq>_<frame>_gtFine_labelTrainIds.png
    gtCoarse/train_extra/<city>/<city>_<seq>_<frame>_gtCoarse_labelTrainIds.png
    {train,val}.txt                        ``<city>/<city>_<seq>_<frame>`` per line,
                                           as ``tools/dataset_converters/cityscapes.py``
                                           writes them

Each frame is a street scene laid out like a car's forward view
(:func:`generate_cityscapes_sample`); every class has its own appearance
(:data:`CITYSCAPES_APPEARANCE`).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import List, NamedTuple, Optional, Sequence, Tuple

import cv2
import numpy as np

from .dataset_root import (DatasetSummary, PathLike, _encode, _finish_root,
                           _prepare_root, _write_bytes, _write_list)
from .drawing import IGNORE_INDEX, Appearance, _Canvas, _shape_mask
from ...utils import check_int
from .sampling import _balanced_classes

__all__ = [
    'CITYSCAPES_APPEARANCE', 'CITYSCAPES_CLASSES', 'CityscapesSample',
    'generate_cityscapes_sample', 'coarsen_label', 'generate_cityscapes'
]

# Cityscapes train ids -> appearance; colours are those of street scenes rather than of
# the label palette. Same-colour pairs: road/pole, person/bicycle, car/motorcycle,
# bus/train; the scene layout (sky on top, road below) is a further cue, as in the real
# data.
#: Appearance of each Cityscapes train id, indexed by train id.
CITYSCAPES_APPEARANCE: Tuple[Appearance, ...] = (
    Appearance('road', (95, 88, 100), 'flat'),
    Appearance('sidewalk', (175, 150, 165), 'checker', angle=0, period=8, contrast=40),
    Appearance('building', (140, 120, 100), 'grid', angle=0, period=9),
    Appearance('wall', (150, 150, 170), 'stripes', angle=0, period=5, contrast=40),
    Appearance('fence', (165, 140, 105), 'grid', angle=45, period=6),
    Appearance('pole', (95, 88, 100), 'stripes', angle=0, period=4, contrast=35),
    Appearance('traffic light', (40, 40, 40), 'dots', angle=90, period=5, contrast=80),
    Appearance('traffic sign', (230, 200, 40), 'rings', period=6, contrast=45),
    Appearance('vegetation', (60, 120, 40), 'grain', contrast=70),
    Appearance('terrain', (150, 170, 80), 'dots', angle=0, period=6),
    Appearance('sky', (120, 170, 230), 'gradient', angle=90, contrast=35),
    Appearance('person', (200, 50, 70), 'stripes', angle=90, period=5),
    Appearance('rider', (230, 90, 40), 'checker', angle=0, period=5),
    Appearance('car', (40, 60, 170), 'gradient', angle=90, contrast=50),
    Appearance('truck', (35, 45, 95), 'stripes', angle=0, period=6),
    Appearance('bus', (40, 125, 135), 'checker', angle=0, period=8),
    Appearance('train', (40, 125, 135), 'stripes', angle=90, period=7),
    Appearance('motorcycle', (40, 60, 170), 'dots', angle=0, period=5),
    Appearance('bicycle', (200, 50, 70), 'grid', angle=0, period=5),
)

#: Cityscapes class names by train id, in the order of ``CityscapesDataset``.
CITYSCAPES_CLASSES: Tuple[str, ...] = tuple(a.name for a in CITYSCAPES_APPEARANCE)

# The ego vehicle's bonnet at the bottom of the frame is void, as in Cityscapes.
_EGO_APPEARANCE = Appearance('ego vehicle', (30, 32, 36), 'gradient', angle=90, contrast=25)

# City names of the real splits, used for folder and file names.
_CITIES = {
    'train': ('aachen', 'bochum', 'bremen', 'cologne', 'darmstadt', 'dusseldorf', 'erfurt',
              'hamburg', 'hanover', 'jena', 'krefeld', 'monchengladbach', 'strasbourg',
              'stuttgart', 'tubingen', 'ulm', 'weimar', 'zurich'),
    'val': ('frankfurt', 'lindau', 'munster'),
    'train_extra': ('augsburg', 'bad-honnef', 'bamberg', 'bayreuth', 'dortmund', 'dresden',
                    'duisburg', 'erlangen', 'freiburg', 'heidelberg', 'heilbronn',
                    'karlsruhe', 'konigswinter', 'konstanz', 'mannheim', 'muhlheim-ruhr',
                    'nuremberg', 'oberhausen', 'saarbrucken', 'schweinfurt', 'troisdorf',
                    'wuppertal', 'wurzburg'),
}
_IMAGES_PER_CITY = 4


class CityscapesSample(NamedTuple):
    """One synthetic Cityscapes frame with its labels.

    Attributes:
        image: RGB image, ``(H, W, 3)`` uint8.
        label: Fine label, ``(H, W)`` uint8 train ids 0..18, 255 for void.
        label_coarse: Coarse label of the same frame (see :func:`coarsen_label`).
    """

    image: np.ndarray
    label: np.ndarray
    label_coarse: np.ndarray


def _cs_paint_polygon(canvas: _Canvas, points: Sequence[Tuple[float, float]],
                      class_id: int) -> None:
    """Paints a filled polygon of a Cityscapes class."""
    height, width = canvas.label.shape
    mask = np.zeros((height, width), np.uint8)
    pts = np.asarray(points, np.float64)
    cv2.fillPoly(mask, [np.round(pts * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
    if mask.any():
        centre = pts.mean(0)
        extent = float(np.ptp(pts, 0).max()) / 2
        canvas.paint(mask, class_id, CITYSCAPES_APPEARANCE[class_id], tuple(centre), extent)


def _cs_rect(x0: float, y0: float, x1: float, y1: float) -> List[Tuple[float, float]]:
    """Corners of an axis-aligned rectangle."""
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def _cs_agent(canvas: _Canvas, class_id: int, x: float, y: float, scale: float) -> None:
    """Paints a road user standing on the ground at ``(x, y)``.

    Args:
        canvas: Canvas to paint on.
        class_id: Train id 11..18.
        x: Horizontal centre.
        y: Ground contact row.
        scale: Size in pixels of one unit (about the height of a person).
    """
    rng = canvas.rng
    height, width = canvas.label.shape
    mask = np.zeros((height, width), np.uint8)

    def ellipse(cx: float, cy: float, ax: float, ay: float, thickness: int = -1) -> None:
        cv2.ellipse(mask, (round(cx * 16), round(cy * 16)),
                    (max(1, round(ax * 16)), max(1, round(ay * 16))), 0, 0, 360, 1,
                    thickness, cv2.LINE_8, 4)

    def box(x0: float, y0: float, x1: float, y1: float) -> None:
        cv2.fillPoly(mask, [np.round(np.array(_cs_rect(x0, y0, x1, y1)) * 16).astype(
            np.int32)], 1, cv2.LINE_8, 4)

    name = CITYSCAPES_CLASSES[class_id]
    if name in ('person', 'rider'):
        h = scale * rng.uniform(0.85, 1.1)
        if name == 'rider':
            # A rider sits on a two-wheeler, which is painted as its own class first.
            _cs_agent(canvas, int(rng.choice([17, 18])), x, y, scale)
            y -= 0.35 * scale
            h *= 0.7
        ellipse(x, y - 0.45 * h, 0.13 * h, 0.38 * h)
        ellipse(x, y - 0.9 * h, 0.09 * h, 0.09 * h)
        extent = h / 2
    elif name in ('motorcycle', 'bicycle'):
        w, r = 0.6 * scale, 0.15 * scale
        thickness = max(1, round(0.05 * scale))
        for wx in (x - w / 2 + r, x + w / 2 - r):
            ellipse(wx, y - r, r, r, -1 if name == 'motorcycle' else thickness)
        if name == 'motorcycle':
            ellipse(x, y - 2 * r, w / 2.3, r)
        else:
            cv2.line(mask, (round(x - w / 2 + r), round(y - r)),
                     (round(x + w / 2 - r), round(y - 2.2 * r)), 1, thickness)
        extent = w / 2
    else:
        # Vehicles: a body with a cabin on top; sizes relative to a person.
        w, h = {'car': (1.4, 0.75), 'truck': (1.8, 1.4), 'bus': (2.4, 1.5),
                'train': (3.6, 1.6)}[name]
        w *= scale * rng.uniform(0.85, 1.15)
        h *= scale * rng.uniform(0.9, 1.1)
        body_top = y - (0.55 if name == 'car' else 1.0) * h
        box(x - w / 2, body_top, x + w / 2, y)
        cabin = rng.uniform(0.55, 0.8) * w
        shift = rng.uniform(-0.1, 0.1) * w
        box(x - cabin / 2 + shift, y - h, x + cabin / 2 + shift, body_top + 1)
        extent = w / 2
    if mask.any():
        canvas.paint(mask, class_id, CITYSCAPES_APPEARANCE[class_id], (x, y - extent / 2),
                     extent)


def generate_cityscapes_sample(rng: np.random.Generator, height: int, width: int,
                               class_ids: Optional[Sequence[int]] = None) -> CityscapesSample:
    """Generates one synthetic street scene with fine and coarse Cityscapes labels.

    The scene is laid out like a car's forward view: sky, a row of buildings with
    trees, walls and fences at the horizon, a road between sidewalks and terrain,
    poles with traffic lights and signs, road users in perspective (far ones drawn
    first), and often the ego vehicle's bonnet (void) at the bottom.

    Args:
        rng: Random generator; the sample is a deterministic function of its state.
        height: Image height, at least 32.
        width: Image width, at least 64.
        class_ids: Train ids (11..18) of the road users; default 2..5 random ones.

    Returns:
        The image with its fine and coarse labels.

    Raises:
        ValueError: If the size is too small or a class id is not a road user.
    """
    check_int(height, 'height', 32)
    check_int(width, 'width', 64)
    if class_ids is None:
        class_ids = rng.integers(11, 19, size=int(rng.integers(2, 6))).tolist()
    for class_id in class_ids:
        if not 11 <= int(class_id) <= 18:
            raise ValueError(f'road user train ids must be in 11..18, got {class_id}')
    canvas = _Canvas(height, width, rng)
    h, w = float(height), float(width)
    horizon = rng.uniform(0.38, 0.52) * h
    ids = {name: i for i, name in enumerate(CITYSCAPES_CLASSES)}

    _cs_paint_polygon(canvas, _cs_rect(0, 0, w, h), ids['sky'])
    x = -rng.uniform(0, 0.1) * w
    while x < w:
        block = rng.uniform(0.1, 0.3) * w
        if rng.random() < 0.85:
            top = horizon * rng.uniform(0.0, 0.6)
            _cs_paint_polygon(canvas, _cs_rect(x, top, x + block, horizon + 1),
                              ids['building'])
        x += block
    for _ in range(int(rng.integers(0, 4))):
        cx, r = rng.uniform(0, w), rng.uniform(0.1, 0.25) * h
        mask = _shape_mask(rng, 'blob', height, width, (cx, horizon - r * 0.6), 2 * r)
        canvas.paint(mask, ids['vegetation'], CITYSCAPES_APPEARANCE[ids['vegetation']],
                     (cx, horizon - r * 0.6), r)
    for name in ('wall', 'fence'):
        if rng.random() < 0.6:
            x0 = rng.uniform(-0.1, 0.8) * w
            x1 = x0 + rng.uniform(0.15, 0.4) * w
            top = horizon - rng.uniform(0.04, 0.12) * h
            _cs_paint_polygon(canvas, _cs_rect(x0, top, x1, horizon + 0.03 * h), ids[name])
    _cs_paint_polygon(canvas, _cs_rect(0, horizon, w, h), ids['sidewalk'])
    for side in (0.0, w):
        if rng.random() < 0.5:
            reach = rng.uniform(0.1, 0.3) * w
            edge = reach if side == 0 else w - reach
            _cs_paint_polygon(canvas, [(side, horizon), (edge, horizon),
                                       (edge * 0.6 + side * 0.4, h), (side, h)],
                              ids['terrain'])
    vanish = rng.uniform(0.4, 0.6) * w
    top_half = rng.uniform(0.02, 0.08) * w
    left, right = rng.uniform(-0.3, 0.15) * w, rng.uniform(0.85, 1.3) * w
    _cs_paint_polygon(canvas, [(vanish - top_half, horizon), (vanish + top_half, horizon),
                               (right, h), (left, h)], ids['road'])
    # Lane markings belong to the road class: paint them on the image only.
    for t in np.arange(rng.uniform(0.05, 0.2), 1.0, 0.25):
        y0, y1 = horizon + t * (h - horizon), horizon + (t + 0.1) * (h - horizon)
        xm0 = vanish + (0.5 * (left + right) - vanish) * t
        xm1 = vanish + (0.5 * (left + right) - vanish) * (t + 0.1)
        half = 0.3 + 0.01 * w * t
        pts = np.array([(xm0 - half, y0), (xm0 + half, y0), (xm1 + half, y1),
                        (xm1 - half, y1)])
        cv2.fillPoly(canvas.image, [np.round(pts * 16).astype(np.int32)],
                     (215.0, 215.0, 210.0), cv2.LINE_AA, 4)
    for _ in range(int(rng.integers(1, 4))):
        # Poles stand on the sidewalk, outside the road.
        x = rng.choice([rng.uniform(0, max(left, 0.1 * w)), rng.uniform(min(right, 0.9 * w), w)])
        foot = horizon + rng.uniform(0.1, 0.5) * (h - horizon)
        top = rng.uniform(0.05, 0.35) * h
        half = max(0.6, 0.006 * w)
        _cs_paint_polygon(canvas, _cs_rect(x - half, top, x + half, foot), ids['pole'])
        if rng.random() < 0.5:
            s = max(2.0, 0.025 * w)
            _cs_paint_polygon(canvas, _cs_rect(x - s / 2, top - 1.5 * s, x + s / 2, top + s),
                              ids['traffic light'])
        elif rng.random() < 0.7:
            s = max(2.0, 0.03 * w)
            cy = top - 0.5 * s
            if rng.random() < 0.5:
                pts = [(x - s, cy - s), (x + s, cy - s), (x, cy + s)]
            else:
                pts = [(x + s * math.cos(a), cy + s * math.sin(a))
                       for a in np.linspace(0, 2 * np.pi, 12, endpoint=False)]
            _cs_paint_polygon(canvas, pts, ids['traffic sign'])
    feet = np.sort(rng.uniform(horizon + 0.1 * (h - horizon), h, len(class_ids)))
    for class_id, foot in zip(class_ids, feet):
        depth = (foot - horizon) / (h - horizon)  # 0 at the horizon, 1 at the bottom
        _cs_agent(canvas, int(class_id), rng.uniform(0.05, 0.95) * w, foot,
                  (0.06 + 0.34 * depth) * h)
    if rng.random() < 0.7:
        bonnet = rng.uniform(0.04, 0.1) * h
        mask = np.zeros((height, width), np.uint8)
        cv2.ellipse(mask, (round(w / 2), round(h + bonnet)), (round(0.8 * w), round(2 * bonnet)),
                    0, 0, 360, 1, -1)
        canvas.paint(mask, IGNORE_INDEX, _EGO_APPEARANCE, (w / 2, h), bonnet)
    image = canvas.finish()
    return CityscapesSample(image, canvas.label.copy(), coarsen_label(canvas.label, rng))


def coarsen_label(label: np.ndarray, rng: np.random.Generator,
                  margin: Optional[int] = None) -> np.ndarray:
    """Turns a fine label into a coarse one, like Cityscapes ``gtCoarse``.

    Each connected region is shrunk by ``margin`` pixels and replaced by a rough
    polygon; small regions and about one region in eight are left out, so that much
    of the image is void, as in the real coarse annotations.

    Args:
        label: ``(H, W)`` uint8 fine label.
        rng: Random generator (which regions are left out).
        margin: Shrink in pixels; default ``max(2, W // 64)``.

    Returns:
        ``(H, W)`` uint8 coarse label, 255 where unlabelled.
    """
    height, width = label.shape
    margin = max(2, width // 64) if margin is None else margin
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * margin + 1, 2 * margin + 1))
    coarse = np.full_like(label, IGNORE_INDEX)
    min_area = max(16.0, 0.002 * height * width)
    for class_id in np.unique(label):
        if class_id == IGNORE_INDEX:
            continue
        core = cv2.erode((label == class_id).astype(np.uint8), kernel)
        contours, _ = cv2.findContours(core, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        for contour in contours:
            if cv2.contourArea(contour) < min_area or rng.random() < 0.125:
                continue
            polygon = cv2.approxPolyDP(contour, max(1.5, 0.5 * margin), True)
            cv2.fillPoly(coarse, [polygon], int(class_id))
    return coarse


def generate_cityscapes(out: PathLike, num_train: int = 12, num_val: int = 6,
                        num_extra: int = 12, width: int = 256,
                        seed: int = 0) -> DatasetSummary:
    """Writes a synthetic Cityscapes data set (fine train/val, coarse train_extra).

    Images are ``width x width // 2`` PNGs; labels are uint8 train-id PNGs.

    Args:
        out: Output folder; the data set is written to ``<out>/cityscapes``.
        num_train: Frames in ``leftImg8bit/train`` with ``gtFine`` labels.
        num_val: Frames in ``leftImg8bit/val`` with ``gtFine`` labels.
        num_extra: Frames in ``leftImg8bit/train_extra`` with ``gtCoarse`` labels.
        width: Image width, even and at least 64.
        seed: Non-negative random seed; the same arguments give identical files.

    Returns:
        What was written.

    Raises:
        ValueError: On non-positive counts, a too small or odd width, a negative seed.
        FileExistsError: If the data set root holds data not written by a generator.
    """
    for name, value in (('num_train', num_train), ('num_val', num_val),
                        ('num_extra', num_extra)):
        check_int(value, name, 1)
    check_int(width, 'width', 64)
    if width % 2:
        raise ValueError(f'width must be even (images are 2:1), got {width}')
    check_int(seed, 'seed', 0)
    root = Path(out) / 'cityscapes'
    params = dict(generator='cityscapes', num_train=num_train, num_val=num_val,
                  num_extra=num_extra, width=width, seed=seed)
    _prepare_root(root, ('leftImg8bit', 'gtFine', 'gtCoarse', 'train.txt', 'val.txt'), params)

    seeds = np.random.SeedSequence([seed, 0xC5])
    layout_rng = np.random.default_rng(seeds.spawn(1)[0])
    counts = {'train': num_train, 'val': num_val, 'train_extra': num_extra}
    image_seeds = iter(seeds.spawn(sum(counts.values())))
    num_files = 1
    for split, n in counts.items():
        per_image = layout_rng.integers(2, 6, size=n).tolist()
        classes = _balanced_classes(layout_rng, per_image, range(11, 19))
        gt_dir, gt_suffix = (('gtCoarse', '_gtCoarse_labelTrainIds.png')
                             if split == 'train_extra' else
                             ('gtFine', '_gtFine_labelTrainIds.png'))
        names = []
        for i, class_ids in enumerate(classes):
            city = _CITIES[split][(i // _IMAGES_PER_CITY) % len(_CITIES[split])]
            seq = i // (_IMAGES_PER_CITY * len(_CITIES[split])) * _IMAGES_PER_CITY + (
                i % _IMAGES_PER_CITY)
            # Fine frames are the 20th of their snippet (frame 19), as in Cityscapes.
            frame = 19 if split != 'train_extra' else int(layout_rng.integers(0, 30))
            stem = f'{city}_{seq:06d}_{frame:06d}'
            names.append(f'{city}/{stem}')
            rng = np.random.default_rng(next(image_seeds))
            sample = generate_cityscapes_sample(rng, width // 2, width, class_ids)
            label = sample.label_coarse if split == 'train_extra' else sample.label
            _write_bytes(root / 'leftImg8bit' / split / city / f'{stem}_leftImg8bit.png',
                         _encode('.png', sample.image))
            _write_bytes(root / gt_dir / split / city / f'{stem}{gt_suffix}',
                         _encode('.png', label))
            num_files += 2
        if split != 'train_extra':
            _write_list(root / f'{split}.txt', sorted(names))
            num_files += 1
    return _finish_root(root, params, counts, num_files)
