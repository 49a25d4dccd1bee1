"""The PASCAL VOC colour map: the palette of VOC's label PNGs."""
from typing import List


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
