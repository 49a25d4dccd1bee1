"""Drawing primitives of the synthetic data sets: how a class looks
(:class:`Appearance`, its texture), object outlines, and the canvas on which an
image and its label map are painted together, object by object, so that later
objects occlude earlier ones in both.
"""
from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass
from typing import List, Sequence, Tuple

import cv2
import numpy as np

__all__ = ['Appearance', 'IGNORE_INDEX', 'SHAPES', 'TEXTURES']

#: Label value of void / ignored pixels in both data sets.
IGNORE_INDEX = 255

#: Texture kinds an :class:`Appearance` can have (see :func:`_texture`).
TEXTURES = ('flat', 'stripes', 'checker', 'dots', 'grid', 'grain', 'gradient', 'rings')

#: Object outlines the VOC generator draws.
SHAPES = ('ellipse', 'rectangle', 'polygon', 'blob')


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
