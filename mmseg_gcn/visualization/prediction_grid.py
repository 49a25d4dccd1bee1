"""A grid of images | ground truth | predictions, for a quick visual check and
for comparing models side by side."""
from typing import Dict, Mapping, NamedTuple, Optional, Sequence, Union

import numpy as np

from .figure import save_figure
from ..datasets.palette import IGNORE_COLOR, colorize_mask


class GridRow(NamedTuple):
    """One image of the grid.

    Attributes:
        image (np.ndarray): (H, W, 3) uint8 RGB image.
        gt (np.ndarray): (H, W) ground-truth class indices.
        pred (np.ndarray | Mapping[str, np.ndarray]): (H, W) predicted
            class indices, or one such map per model name (one column each,
            in order).
        name (str): Title of the row, e.g. the image's file stem.
    """

    image: np.ndarray
    gt: np.ndarray
    pred: Union[np.ndarray, Mapping[str, np.ndarray]]
    name: str = ''

    @property
    def predictions(self) -> Dict[str, np.ndarray]:
        """dict: Column title -> predicted map."""
        if isinstance(self.pred, Mapping):
            return dict(self.pred)
        return {'prediction': self.pred}


def _pixel_accuracy(gt: np.ndarray, pred: np.ndarray,
                    ignore_index: int) -> float:
    valid = gt != ignore_index
    return float((gt[valid] == pred[valid]).mean()) if valid.any() else 0.0


def save_prediction_grid(rows: Sequence[GridRow],
                         classes: Sequence[str],
                         palette: Sequence[Sequence[int]],
                         out_file: str,
                         ignore_index: int = 255,
                         title: Optional[str] = None) -> str:
    """Draws one row per image (image | ground truth | prediction(s)), the masks
    coloured with ``palette``, with a legend of the classes shown.

    Args:
        rows (Sequence[GridRow]): The images, with masks of the image size.
        classes (Sequence[str]): Class names, indexed like the palette.
        palette (Sequence[Sequence[int]]): One RGB colour per class.
        out_file (str): Path of the PNG to write; folders are created.
        ignore_index (int): Label value of ignored pixels. Defaults to 255.
        title (str, optional): Figure title.

    Returns:
        str: ``out_file``.

    Raises:
        ValueError: If ``rows`` is empty or a mask does not match its image.
    """
    if not rows:
        raise ValueError('save_prediction_grid needs at least one row')
    for row in rows:
        shapes = [p.shape for p in row.predictions.values()]
        if not all(row.image.shape[:2] == row.gt.shape == shape
                   for shape in shapes):
            raise ValueError(
                f'row {row.name!r}: image {row.image.shape[:2]}, ground '
                f'truth {row.gt.shape} and prediction(s) {shapes} must '
                'have the same height and width')
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    columns = 2 + max(len(row.predictions) for row in rows)
    fig, axes = plt.subplots(
        len(rows), columns, figsize=(2.5 * columns, 2.4 * len(rows) + 0.9),
        squeeze=False)
    shown = set()
    for axes_row, row in zip(axes, rows):
        panels = [
            (row.image, row.name or 'image'),
            (colorize_mask(row.gt, palette, ignore_index), 'ground truth'),
        ]
        for model, pred in row.predictions.items():
            acc = _pixel_accuracy(row.gt, pred, ignore_index)
            panels.append((colorize_mask(pred, palette, ignore_index),
                           f'{model} (pixel acc. {100 * acc:.1f}%)'))
            shown.update(np.unique(pred).tolist())
        for ax, (picture, label) in zip(axes_row, panels):
            ax.imshow(picture, interpolation='nearest')
            ax.set_title(label, fontsize=8)
        for ax in axes_row:
            ax.axis('off')
        shown.update(np.unique(row.gt).tolist())
    handles = [
        Patch(color=np.asarray(palette[i]) / 255, label=classes[i])
        for i in sorted(shown) if i != ignore_index
    ]
    if ignore_index in shown:
        handles.append(
            Patch(color=np.asarray(IGNORE_COLOR) / 255, label='ignored'))
    fig.legend(
        handles=handles, loc='lower center', ncol=min(len(handles), 6),
        fontsize=7, frameon=False)
    if title:
        fig.suptitle(title, fontsize=10)
    # leave room at the bottom for the legend (about 0.2 inch a line)
    legend_lines = -(-len(handles) // 6)
    bottom = min(0.3, (0.25 + 0.2 * legend_lines) / fig.get_figheight())
    fig.tight_layout(rect=(0, bottom, 1, 0.97 if title else 1))
    return save_figure(fig, out_file)
