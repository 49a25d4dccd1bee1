"""Class colours: the PASCAL VOC colour map (the palette of VOC's label PNGs),
writing a label as such a PNG, and the colouring of class-index masks with a
data set's palette."""
from typing import List, Sequence

import numpy as np
from PIL import Image

from ..utils import atomic_write

#: Colour of ignored pixels: the one PASCAL VOC uses for its void border
#: (entry 255 of :func:`voc_palette`).
IGNORE_COLOR = (224, 224, 192)


def voc_palette(n: int = 256) -> List[int]:
    """Builds the PASCAL VOC colour map.

    Args:
        n (int): Number of palette entries. Defaults to 256.

    Returns:
        list[int]: Flat ``[r0, g0, b0, r1, ...]`` list of ``3 * n`` values;
        entry 255 is the void colour (224, 224, 192).
    """
    palette = []
    for i in range(n):
        r = g = b = 0
        c = i
        for j in range(8):
            # The bits of the index are spread over the high bits of r, g, b.
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        palette += [r, g, b]
    return palette


def save_voc_label(label: np.ndarray, path: str) -> None:
    """Writes a label as a VOC palette PNG (the class indices, coloured
    with :func:`voc_palette`), atomically (temporary file, then rename), so
    that ``path`` is either absent or complete.

    Args:
        label (np.ndarray): ``(H, W)`` uint8 label.
        path (str): the PNG to write.
    """
    image = Image.fromarray(label)
    image.putpalette(voc_palette())  # 'L' -> 'P', values unchanged
    atomic_write(path, lambda tmp: image.save(tmp, format='PNG'),
                 fsync=False)


def colorize_mask(mask: np.ndarray,
                  palette: Sequence[Sequence[int]],
                  ignore_index: int = 255,
                  ignore_color: Sequence[int] = IGNORE_COLOR) -> np.ndarray:
    """Turns a class-index mask into an RGB image.

    Args:
        mask (np.ndarray): (H, W) integer class indices.
        palette (Sequence[Sequence[int]]): One RGB colour per class.
        ignore_index (int): Value of ignored pixels. Defaults to 255.
        ignore_color (Sequence[int]): RGB colour of ignored pixels.
            Defaults to the PASCAL VOC void colour (224, 224, 192).

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB image.

    Raises:
        ValueError: If the mask is not 2-D or holds a value that is neither a
            class of the palette nor ``ignore_index``.
    """
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f'a mask must be 2-D (H, W), got shape {mask.shape}')
    colors = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)
    ignored = mask == ignore_index
    bad = np.unique(mask[~ignored & ((mask < 0) | (mask >= len(colors)))])
    if bad.size:
        raise ValueError(
            f'mask values {bad.tolist()} have no colour: the palette has '
            f'{len(colors)} classes (and {ignore_index} = ignore)')
    rgb = colors[np.where(ignored, 0, mask)]
    rgb[ignored] = ignore_color
    return rgb
