"""What every generator checks and draws before painting: its integer
arguments, and which object classes go into which image."""
from __future__ import annotations

from typing import List, Sequence

import numpy as np


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
