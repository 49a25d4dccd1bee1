"""Deterministic synthetic demo data in the on-disk layouts of PASCAL VOC and Cityscapes.

The generated folders are read by MMSegmentation's own ``PascalVOCDataset`` and
``CityscapesDataset`` unchanged, so configs, tests and demos can run end to end
without downloading the real data sets:

* PASCAL VOC 2012 + SBD aug, under ``<out>/VOCdevkit/VOC2012/``::

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

* Cityscapes, under ``<out>/cityscapes/``::

      leftImg8bit/{train,val,train_extra}/<city>/<city>_<seq>_<frame>_leftImg8bit.png
      gtFine/{train,val}/<city>/<city>_<seq>_<frame>_gtFine_labelTrainIds.png
      gtCoarse/train_extra/<city>/<city>_<seq>_<frame>_gtCoarse_labelTrainIds.png
      {train,val}.txt                        ``<city>/<city>_<seq>_<frame>`` per line,
                                             as ``tools/dataset_converters/cityscapes.py``
                                             writes them

Images are made to need learning: every class has an explicit appearance (a base
colour plus a texture, see :data:`VOC_APPEARANCE` and :data:`CITYSCAPES_APPEARANCE`),
jittered per instance. Some classes share a colour and differ only in texture, others
share a texture and differ only in colour. Objects of varied shape, size and position
overlap, occlude each other and touch the image border, over a cluttered background,
with gaussian noise on top. Labels are painted together with the image, so later
objects occlude earlier ones in both.

All randomness comes from one ``seed``: the same arguments give byte-identical files.

This module only needs numpy, OpenCV and Pillow, so that it imports fast.
"""
from __future__ import annotations

import colorsys
import json
import math
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from PIL import Image

from .voc_palette import voc_palette

__all__ = [
    'Appearance', 'TEXTURES', 'SHAPES', 'VOC_CLASSES', 'VOC_APPEARANCE', 'VOC_PALETTE',
    'CITYSCAPES_CLASSES', 'CITYSCAPES_APPEARANCE', 'IGNORE_INDEX', 'VOCSample',
    'CityscapesSample', 'DatasetSummary', 'generate_voc_sample',
    'generate_cityscapes_sample', 'coarsen_label', 'generate_voc_aug',
    'generate_cityscapes'
]

PathLike = Union[str, Path]

#: Label value of void / ignored pixels in both data sets.
IGNORE_INDEX = 255

#: Texture kinds an :class:`Appearance` can have (see :func:`_texture`).
TEXTURES = ('flat', 'stripes', 'checker', 'dots', 'grid', 'grain', 'gradient', 'rings')

#: Object outlines the VOC generator draws.
SHAPES = ('ellipse', 'rectangle', 'polygon', 'blob')

# Name of the file that marks a folder as written by this module, so that a later run
# may clear it, but never a folder holding real data.
_MARKER = '.synthetic_demo_data.json'
_JPEG_QUALITY = 90


@dataclass(frozen=True)
class Appearance:
    """How the instances of one class look.

    Every instance gets the base colour jittered in HSV, with the texture drawn on
    top as a brightness modulation around it (so the hue stays the class's own).

    Attributes:
        name: Class name.
        rgb: Base colour, (R, G, B) in 0..255.
        texture: One of :data:`TEXTURES`.
        angle: Direction in degrees along which the texture varies (stripes, checker,
            grid, dots, gradient): 0 gives vertical stripes, 90 horizontal ones;
            jittered by +-12 degrees per instance.
        period: Texture period in pixels (stripes, checker, grid, dots, rings);
            jittered by -15 %..+20 % per instance.
        contrast: Texture amplitude in grey levels (0..255 scale).
    """

    name: str
    rgb: Tuple[int, int, int]
    texture: str
    angle: float = 0.0
    period: float = 8.0
    contrast: float = 55.0


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


@dataclass(frozen=True)
class DatasetSummary:
    """What a generator wrote.

    Attributes:
        root: Data set root (``.../VOCdevkit/VOC2012`` or ``.../cityscapes``).
        splits: Split name -> number of images in it.
        num_files: Number of files written.
    """

    root: Path
    splits: Dict[str, int]
    num_files: int


# --------------------------------------------------------------------------- painting


def _jitter_colour(rng: np.random.Generator, rgb: Sequence[int], hue: float = 0.025,
                   sat: float = 0.15, val: float = 0.12) -> np.ndarray:
    """Jitters a colour in HSV, so instances of a class vary but keep its hue.

    Args:
        rng: Random generator.
        rgb: Base colour in 0..255.
        hue: Maximum hue shift, as a fraction of the colour circle.
        sat: Maximum relative saturation change.
        val: Maximum relative value change.

    Returns:
        The jittered colour, float32 array of 3 values in 0..255.
    """
    h, s, v = colorsys.rgb_to_hsv(*(c / 255.0 for c in rgb))
    h = (h + rng.uniform(-hue, hue)) % 1.0
    s = min(1.0, s * rng.uniform(1 - sat, 1 + sat))
    v = min(1.0, v * rng.uniform(1 - val, 1 + val))
    return np.array(colorsys.hsv_to_rgb(h, s, v), np.float32) * 255


def _texture(kind: str, u: np.ndarray, v: np.ndarray, period: float, extent: float,
             rng: np.random.Generator) -> np.ndarray:
    """Computes a texture as a brightness modulation in [-1, 1].

    Args:
        kind: One of :data:`TEXTURES`.
        u: Pixel coordinates along the texture direction, relative to the object centre.
        v: Pixel coordinates across the texture direction.
        period: Pattern period in pixels.
        extent: Object radius in pixels (scale of ``gradient``).
        rng: Random generator (``grain``).

    Returns:
        float32 array of the shape of ``u``.
    """
    two_pi = np.float32(2 * np.pi / period)
    if kind == 'flat':
        return np.zeros_like(u)
    if kind == 'stripes':
        # tanh of a sine: a square wave with soft edges, which survives JPEG.
        return np.tanh(2.5 * np.sin(two_pi * u))
    if kind == 'checker':
        return np.tanh(2.5 * np.sin(two_pi * u)) * np.tanh(2.5 * np.sin(two_pi * v))
    if kind == 'dots':
        du = np.mod(u, period) - period / 2
        dv = np.mod(v, period) - period / 2
        inside = np.clip(0.3 * period - np.sqrt(du * du + dv * dv) + 0.5, 0, 1)
        return 0.3 - 1.3 * inside  # dark dots on a slightly lighter ground
    if kind == 'grid':
        du = period / 2 - np.abs(np.mod(u, period) - period / 2)
        dv = period / 2 - np.abs(np.mod(v, period) - period / 2)
        on_line = np.clip(1.5 - np.minimum(du, dv), 0, 1)
        return 0.3 - 1.3 * on_line  # dark lines on a slightly lighter ground
    if kind == 'grain':
        noise = rng.standard_normal(u.shape).astype(np.float32)
        # A light blur gives the grain a size of ~2 px, coarser than the camera noise.
        noise = cv2.GaussianBlur(noise, (0, 0), 0.6)
        return np.clip(noise * 1.6, -1, 1)
    if kind == 'gradient':
        return np.clip(u / max(extent, 1.0), -1, 1)
    if kind == 'rings':
        return np.tanh(2.5 * np.sin(two_pi * np.sqrt(u * u + v * v)))
    raise ValueError(f'unknown texture {kind!r}, expected one of {TEXTURES}')


class _Canvas:
    """An image and its label map painted together, object by object.

    Args:
        height: Image height.
        width: Image width.
        rng: Random generator for all per-instance jitter.
    """

    def __init__(self, height: int, width: int, rng: np.random.Generator) -> None:
        self.rng = rng
        self.image = np.zeros((height, width, 3), np.float32)
        self.label = np.zeros((height, width), np.uint8)
        # Instance ids (0 = background), for occlusion checks and VOC void borders.
        self.instances = np.zeros((height, width), np.uint8)
        self.drawn_areas: List[int] = [0]
        self.num_instances = 0
        self.yy, self.xx = np.mgrid[0:height, 0:width].astype(np.float32)

    def paint(self, mask: np.ndarray, class_id: int, appearance: Appearance,
              centre: Tuple[float, float], extent: float, soft: bool = True) -> None:
        """Paints one object instance on top of everything painted before.

        Args:
            mask: ``(H, W)`` uint8 mask of the object (non-zero inside).
            class_id: Label value written under the mask.
            appearance: How the object looks.
            centre: ``(x, y)`` the texture is anchored at.
            extent: Object radius in pixels.
            soft: Blend the outline over ~1 px, like a camera would.
        """
        rng = self.rng
        colour = _jitter_colour(rng, appearance.rgb)
        theta = math.radians(appearance.angle + rng.uniform(-12, 12))
        period = appearance.period * rng.uniform(0.85, 1.2)
        x = self.xx - np.float32(centre[0])
        y = self.yy - np.float32(centre[1])
        u = x * np.float32(math.cos(theta)) + y * np.float32(math.sin(theta))
        v = y * np.float32(math.cos(theta)) - x * np.float32(math.sin(theta))
        shade = _texture(appearance.texture, u, v, period, extent, rng)
        contrast = appearance.contrast * rng.uniform(0.8, 1.1)
        layer = colour[None, None, :] + np.float32(contrast) * shade[..., None]
        inside = mask > 0
        if soft:
            alpha = cv2.GaussianBlur(inside.astype(np.float32), (0, 0), 0.6)
            alpha = np.maximum(alpha, inside)[..., None]
            self.image += alpha * (layer - self.image)
        else:
            self.image[inside] = layer[inside]
        self.label[inside] = class_id
        self.num_instances += 1
        self.instances[inside] = min(self.num_instances, 255)
        self.drawn_areas.append(int(inside.sum()))

    def occlusion_ok(self, mask: np.ndarray, keep: float = 0.4) -> bool:
        """Tells whether a new object leaves every earlier one visible enough.

        Args:
            mask: Mask of the candidate object.
            keep: Fraction of each earlier object's drawn area that must stay visible.

        Returns:
            True if no earlier instance would be hidden beyond ``1 - keep``.
        """
        visible = np.bincount(self.instances.ravel(), minlength=self.num_instances + 1)
        covered = np.bincount(self.instances[mask > 0], minlength=self.num_instances + 1)
        areas = np.asarray(self.drawn_areas, np.float64)
        return bool(np.all((visible - covered)[1:] >= keep * areas[1:]))

    def finish(self, noise_sigma: float = 4.0) -> np.ndarray:
        """Applies a per-image illumination change and gaussian noise.

        Args:
            noise_sigma: Standard deviation of the noise in grey levels.

        Returns:
            The RGB image as uint8.
        """
        rng = self.rng
        gain = rng.uniform(0.85, 1.15) * rng.uniform(0.95, 1.05, size=3)  # light + cast
        noise = rng.normal(0.0, noise_sigma, self.image.shape)
        return np.clip(self.image * gain.astype(np.float32) + noise, 0, 255).astype(np.uint8)


def _shape_mask(rng: np.random.Generator, shape: str, height: int, width: int,
                centre: Tuple[float, float], extent: float) -> np.ndarray:
    """Draws a filled object outline.

    Args:
        rng: Random generator.
        shape: One of :data:`SHAPES`.
        height: Mask height.
        width: Mask width.
        centre: ``(x, y)`` of the object.
        extent: Largest diameter of the object in pixels.

    Returns:
        ``(H, W)`` uint8 mask, 1 inside.
    """
    mask = np.zeros((height, width), np.uint8)
    cx, cy = centre
    r = extent / 2
    angle = rng.uniform(0, 180)
    if shape == 'ellipse':
        axes = (r, r * rng.uniform(0.45, 1.0))
        # shift=4: coordinates in 1/16 px, so small ellipses are not snapped to the grid.
        cv2.ellipse(mask, (round(cx * 16), round(cy * 16)),
                    (round(axes[0] * 16), round(axes[1] * 16)), angle, 0, 360, 1, -1,
                    cv2.LINE_8, 4)
        return mask
    if shape == 'rectangle':
        long_side = extent * 0.8
        box = ((cx, cy), (long_side, long_side * rng.uniform(0.4, 1.0)), angle)
        points = cv2.boxPoints(box)
    elif shape == 'polygon':
        n = int(rng.integers(3, 8))
        steps = np.arange(n) + rng.uniform(-0.3, 0.3, n)
        phi = steps * (2 * np.pi / n) + np.radians(angle)
        radius = r * rng.uniform(0.55, 1.0, n)
        points = np.stack([cx + radius * np.cos(phi), cy + radius * np.sin(phi)], 1)
    elif shape == 'blob':
        phi = np.linspace(0, 2 * np.pi, 48, endpoint=False)
        wobble = sum(
            rng.uniform(0, 0.18) * np.cos(k * phi + rng.uniform(0, 2 * np.pi))
            for k in (2, 3, 4))
        radius = r * (1 + wobble) / (1 + np.max(wobble))
        points = np.stack([cx + radius * np.cos(phi), cy + radius * np.sin(phi)], 1)
    else:
        raise ValueError(f'unknown shape {shape!r}, expected one of {SHAPES}')
    cv2.fillPoly(mask, [np.round(points * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
    return mask


def _smooth_field(rng: np.random.Generator, height: int, width: int, cells: int) -> np.ndarray:
    """Low-frequency noise in about [-1, 1]: blotches ``cells`` across the image."""
    grid = rng.standard_normal((cells, cells)).astype(np.float32)
    return np.clip(cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC), -2,
                   2) / 2


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


def _void_borders(instances: np.ndarray, width: int) -> np.ndarray:
    """Finds the band along instance outlines that VOC marks as void.

    Args:
        instances: ``(H, W)`` uint8 instance ids, 0 for background.
        width: Band width in pixels.

    Returns:
        ``(H, W)`` bool mask of the band; the image border is not part of it.
    """
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (width + 1, width + 1))
    # A pixel is on an outline if its neighbourhood holds more than one instance id.
    return cv2.dilate(instances, kernel) != cv2.erode(instances, kernel)


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
    _check_int('height', height, 32)
    _check_int('width', width, 32)
    _check_int('void_width', void_width, 1)
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


# ---------------------------------------------------------------------------- Cityscapes


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
    _check_int('height', height, 32)
    _check_int('width', width, 64)
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


# --------------------------------------------------------------------------- writing


def _check_int(name: str, value: int, minimum: int) -> None:
    """Raises ValueError unless ``value`` is an int of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f'{name} must be an integer, got {value!r}')
    if value < minimum:
        raise ValueError(f'{name} must be at least {minimum}, got {value}')


def _balanced_classes(rng: np.random.Generator, counts: Sequence[int],
                      classes: Sequence[int]) -> List[List[int]]:
    """Draws object classes so that every class appears about equally often.

    Args:
        rng: Random generator.
        counts: Number of objects of each image.
        classes: Class ids to draw from.

    Returns:
        One list of class ids per image.
    """
    # Concatenated shuffles: each class occurs once per len(classes) objects.
    stream: List[int] = []
    while len(stream) < sum(counts):
        stream += rng.permutation(classes).tolist()
    out, start = [], 0
    for n in counts:
        out.append(stream[start:start + n])
        start += n
    return out


def generation_params(root: PathLike) -> Optional[dict]:
    """The arguments a data set root was generated with.

    Args:
        root: A data set root, e.g. ``<out>/VOCdevkit/VOC2012``.

    Returns:
        The recorded arguments, or None if the generator did not write ``root``
        or did not finish writing it.
    """
    marker = Path(root) / _MARKER
    if not marker.is_file():
        return None
    params = json.loads(marker.read_text())
    # A generation that was cut off left its marker saying so.
    if params.pop('complete', True) is False:
        return None
    return params


def _prepare_root(root: Path, owned: Sequence[str], params: dict) -> None:
    """Makes ``root`` ready to be (re)written.

    A root written by this module before is cleared of its generated folders, so a
    new run leaves no stale files; a non-empty root without the marker file holds
    someone else's data and is left alone.

    Args:
        root: Data set root.
        owned: Paths below ``root`` that the generator writes.
        params: Generator arguments, recorded in the marker file.

    Raises:
        FileExistsError: If ``root`` is a non-empty folder not written by this module.
    """
    marker = root / _MARKER
    if root.exists():
        if not root.is_dir():
            raise FileExistsError(f'{root} exists and is not a folder')
        if any(root.iterdir()) and not marker.is_file():
            raise FileExistsError(
                f'{root} is not empty and was not written by the synthetic data '
                'generator; refusing to overwrite it. Choose another output folder.')
        for name in owned:
            path = root / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
    root.mkdir(parents=True, exist_ok=True)
    _write_marker(root, dict(params, complete=False))


def _write_marker(root: Path, params: dict) -> None:
    """Records the generator's arguments in ``root``."""
    (root / _MARKER).write_text(json.dumps(params, indent=2, sort_keys=True) + '\n')


def _finish_root(root: Path, params: dict, splits: Dict[str, int],
                 num_files: int) -> DatasetSummary:
    """Marks ``root`` as completely written, last, so that an interrupted
    generation is never taken for a finished one; returns the summary."""
    _write_marker(root, params)
    return DatasetSummary(root, splits, num_files)


def _write_bytes(path: Path, data: bytes) -> None:
    """Writes a file, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _encode(ext: str, image: np.ndarray, params: Sequence[int] = ()) -> bytes:
    """Encodes an image (RGB or single-channel) with OpenCV."""
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(ext, image, list(params))
    if not ok:
        raise RuntimeError(f'could not encode a {ext} image')
    return buf.tobytes()


def _save_pil(path: Path, image: Image.Image) -> None:
    """Saves a PIL image as PNG, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, 'PNG')


def _write_list(path: Path, stems: Sequence[str]) -> None:
    """Writes one name per line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(''.join(f'{s}\n' for s in stems))


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
        FileExistsError: If the data set root holds data not written by this module.
    """
    for name, value in (('num_train', num_train), ('num_aug', num_aug),
                        ('num_val', num_val)):
        _check_int(name, value, 1)
    _check_int('min_side', min_side, 32)
    _check_int('max_side', max_side, min_side)
    _check_int('seed', seed, 0)
    _check_int('void_width', void_width, 1)
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
        FileExistsError: If the data set root holds data not written by this module.
    """
    for name, value in (('num_train', num_train), ('num_val', num_val),
                        ('num_extra', num_extra)):
        _check_int(name, value, 1)
    _check_int('width', width, 64)
    if width % 2:
        raise ValueError(f'width must be even (images are 2:1), got {width}')
    _check_int('seed', seed, 0)
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
