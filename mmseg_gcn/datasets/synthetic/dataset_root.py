"""The folder a generator writes: refusing to overwrite real data, a marker file
that records the generator's arguments (and whether it finished), and writing
the image and list files.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional, Sequence, Union

import cv2
import numpy as np
from PIL import Image

__all__ = ['DatasetSummary', 'PathLike', 'generation_params']

PathLike = Union[str, Path]

# Name of the file that marks a folder as written by a generator, so that a later run
# may clear it, but never a folder holding real data.
_MARKER = '.synthetic_demo_data.json'


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

    A root written by a generator before is cleared of its generated folders, so a
    new run leaves no stale files; a non-empty root without the marker file holds
    someone else's data and is left alone.

    Args:
        root: Data set root.
        owned: Paths below ``root`` that the generator writes.
        params: Generator arguments, recorded in the marker file.

    Raises:
        FileExistsError: If ``root`` is a non-empty folder not written by a generator.
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
