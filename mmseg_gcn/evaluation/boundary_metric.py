"""Accuracy near object boundaries and in object interiors (Table 5).

The paper splits the pixels of each image into a *boundary* region, "pixels
whose distance to an object boundary is <= 7 px", and an *internal* region
(all other pixels), scores each by per-pixel accuracy, and the whole image by
mIoU. It does not say what a boundary pixel is nor how void pixels are
treated; the choices made here:

- A **boundary pixel** is a pixel with at least one neighbour (8-neighbourhood
  by default, 4 on request) whose label differs. Both sides of a label edge
  are therefore boundary pixels, and so the distance from a pixel to the
  boundary is the Euclidean distance between pixel centres to the nearest
  boundary pixel (0 on the boundary itself). The image border is not a
  boundary.
- The **band** is every pixel at distance <= ``width`` (7 by default, the
  paper's value); the internal region is every other pixel.
- **Void** pixels (``ignore_index``) are never scored, in either region or
  in the mIoU. By default a change between a void and a valid label *is* a
  boundary: PASCAL VOC draws its void label as a ~5 px band along every
  object outline, so without this a VOC object would have almost no boundary
  pixels at all. ``void_is_boundary=False`` restricts boundaries to changes
  between two valid labels.
- The bands are computed from the ground truth, per image, at the resolution
  of the evaluation (the original image for mmseg's test pipelines).

The mIoU is computed exactly as :class:`mmseg.evaluation.IoUMetric` does
(same intersection/union counts, NaN-mean over classes), so the two agree
when used side by side.
"""
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log
from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS
from scipy.ndimage import distance_transform_edt

ArrayLike = Union[np.ndarray, torch.Tensor]


def _check_width(width: float) -> float:
    if (isinstance(width, bool) or not isinstance(width, (int, float))
            or not np.isfinite(width) or width < 1):
        raise ValueError(
            f'width must be a number >= 1 (the distance in pixels from a '
            f'label boundary that still counts as the boundary band; the '
            f'paper uses 7), got {width!r}.')
    return width


def _check_connectivity(connectivity: int) -> int:
    if connectivity not in (4, 8):
        raise ValueError(
            f'connectivity must be 4 or 8 (the neighbours a pixel is '
            f'compared with to find label boundaries), got {connectivity!r}.')
    return connectivity


def _as_numpy(x: ArrayLike) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def label_boundaries(label: ArrayLike,
                     ignore_index: int = 255,
                     connectivity: int = 8,
                     void_is_boundary: bool = True) -> np.ndarray:
    """Finds the pixels of a label map that lie on a label boundary.

    Args:
        label (np.ndarray | torch.Tensor): Label map of shape (H, W).
        ignore_index (int): The void label. Defaults to 255.
        connectivity (int): 4 or 8: the neighbours a pixel is compared with.
            Defaults to 8.
        void_is_boundary (bool): Whether a change between a void and a valid
            label is a boundary. Defaults to True.

    Returns:
        np.ndarray: Boolean map (H, W), True where a neighbour's label
        differs.
    """
    _check_connectivity(connectivity)
    label = _as_numpy(label)
    if label.ndim != 2:
        raise ValueError(
            f'label must be a 2-D (H, W) map, got shape {label.shape}.')
    h, w = label.shape
    boundary = np.zeros((h, w), dtype=bool)
    # Each neighbour pair once: right, down, and the two diagonals for 8.
    offsets = [(0, 1), (1, 0)]
    if connectivity == 8:
        offsets += [(1, 1), (1, -1)]
    for dy, dx in offsets:
        # a = pixel (y, x), b = its neighbour (y + dy, x + dx)
        ys_a, ys_b = slice(0, h - dy), slice(dy, h)
        xs_a = slice(max(0, -dx), w - max(0, dx))
        xs_b = slice(max(0, dx), w - max(0, -dx))
        a, b = label[ys_a, xs_a], label[ys_b, xs_b]
        differs = a != b
        if not void_is_boundary:
            differs &= (a != ignore_index) & (b != ignore_index)
        boundary[ys_a, xs_a] |= differs
        boundary[ys_b, xs_b] |= differs
    return boundary


def boundary_band(label: ArrayLike,
                  width: float = 7,
                  ignore_index: int = 255,
                  connectivity: int = 8,
                  void_is_boundary: bool = True) -> np.ndarray:
    """The pixels within ``width`` pixels of a label boundary.

    Args:
        label (np.ndarray | torch.Tensor): Label map of shape (H, W).
        width (float): Largest Euclidean distance (in pixels, between pixel
            centres) to the nearest boundary pixel. >= 1. Defaults to 7.
        ignore_index (int): The void label. Defaults to 255.
        connectivity (int): 4 or 8, see :func:`label_boundaries`.
            Defaults to 8.
        void_is_boundary (bool): See :func:`label_boundaries`.
            Defaults to True.

    Returns:
        np.ndarray: Boolean map (H, W), True inside the band. Void pixels
        may be inside it; callers leave them out of the scores.
    """
    _check_width(width)
    boundary = label_boundaries(label, ignore_index, connectivity,
                                void_is_boundary)
    if not boundary.any():
        return boundary  # a single label: no band
    # distance of every pixel to the nearest boundary pixel (exact, float64;
    # whole-number distances such as 7 are exact, so `<=` is safe)
    distance = distance_transform_edt(~boundary)
    return distance <= width


@METRICS.register_module()
class BoundaryAccuracyMetric(BaseMetric):
    """Per-pixel accuracy in the boundary band and in the interior, and
    mIoU: Table 5 of "Large Kernel Matters".

    See the module docstring for the definition of the band and the handling
    of void pixels. Usable next to mmseg's ``IoUMetric``::

        val_evaluator = [
            dict(type='IoUMetric', iou_metrics=['mIoU']),
            dict(type='BoundaryAccuracyMetric', width=7),
        ]

    The results are reported as ``boundary/band_acc``,
    ``boundary/internal_acc``, ``boundary/mIoU`` and
    ``boundary/band_fraction`` (the share of the scored pixels that lie in
    the band), all in percent; the ``boundary/`` prefix keeps the names
    apart from ``IoUMetric``'s. Each image contributes counts only, so the
    results are exact in distributed evaluation (mmengine gathers
    ``self.results`` from all ranks).

    Args:
        width (float): Width of the boundary band in pixels (>= 1).
            Defaults to 7, the paper's value.
        ignore_index (int): Void label, never scored. Defaults to 255.
        connectivity (int): 4 or 8: the neighbours compared to find label
            boundaries. Defaults to 8.
        void_is_boundary (bool): Whether a change between a void and a valid
            label is a boundary. Defaults to True.
        num_classes (int, optional): Number of classes. Defaults to None:
            the number of ``classes`` in the dataset's meta information.
        collect_device (str): Device used to gather the results across
            ranks, ``'cpu'`` or ``'gpu'``. Defaults to 'cpu'.
        prefix (str, optional): Prefix of the metric names. Defaults to
            None, meaning ``'boundary'``.
    """
    default_prefix: Optional[str] = 'boundary'

    def __init__(self,
                 width: float = 7,
                 ignore_index: int = 255,
                 connectivity: int = 8,
                 void_is_boundary: bool = True,
                 num_classes: Optional[int] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 **kwargs) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.width = _check_width(width)
        self.connectivity = _check_connectivity(connectivity)
        if num_classes is not None and (isinstance(num_classes, bool)
                                        or not isinstance(num_classes, int)
                                        or num_classes < 1):
            raise ValueError(
                f'num_classes must be an integer >= 1 or None (read from the '
                f'dataset), got {num_classes!r}.')
        self.ignore_index = ignore_index
        self.void_is_boundary = void_is_boundary
        self.num_classes = num_classes

    def _get_num_classes(self) -> int:
        if self.num_classes is not None:
            return self.num_classes
        meta = self.dataset_meta or {}
        if 'classes' not in meta:
            raise ValueError(
                'BoundaryAccuracyMetric needs the number of classes: give '
                'num_classes=..., or evaluate it through a Runner whose '
                'dataset has `classes` in its meta information.')
        return len(meta['classes'])

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Counts, per image, the correct and scored pixels of the band and
        of the interior, and the per-class intersections and unions.

        Args:
            data_batch (dict): A batch of data from the dataloader (unused).
            data_samples (Sequence[dict]): Outputs of the model, each with
                ``pred_sem_seg`` and ``gt_sem_seg``.
        """
        num_classes = self._get_num_classes()
        for sample in data_samples:
            pred = sample['pred_sem_seg']['data'].squeeze()
            label = sample['gt_sem_seg']['data'].squeeze().to(pred)
            if pred.shape != label.shape:
                raise ValueError(
                    f'prediction {tuple(pred.shape)} and label '
                    f'{tuple(label.shape)} differ in size; the metric '
                    f'compares them pixel by pixel.')
            band = torch.from_numpy(
                boundary_band(label, self.width, self.ignore_index,
                              self.connectivity, self.void_is_boundary))
            pred_cpu, label_cpu = pred.cpu(), label.cpu()
            valid = label_cpu != self.ignore_index
            correct = (pred_cpu == label_cpu) & valid
            in_band = band & valid
            in_interior = ~band & valid
            intersect, union, _, _ = IoUMetric.intersect_and_union(
                pred, label, num_classes, self.ignore_index)
            self.results.append(
                dict(
                    band_correct=int((correct & in_band).sum()),
                    band_total=int(in_band.sum()),
                    internal_correct=int((correct & in_interior).sum()),
                    internal_total=int(in_interior.sum()),
                    intersect=intersect.numpy().astype(np.int64),
                    union=union.numpy().astype(np.int64)))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Sums the counts of all images and computes the metrics.

        Args:
            results (list[dict]): The counts of every image (of all ranks).

        Returns:
            dict[str, float]: ``band_acc``, ``internal_acc``, ``mIoU`` and
            ``band_fraction``, in percent, rounded to 2 decimals. An empty
            region gives NaN.
        """
        logger: MMLogger = MMLogger.get_current_instance()
        if not results:
            nan = float('nan')
            return OrderedDict(
                band_acc=nan, internal_acc=nan, mIoU=nan, band_fraction=nan)

        def total(key: str):
            return sum(r[key] for r in results)

        def percent(num: float, den: float) -> float:
            return round(100.0 * num / den, 2) if den else float('nan')

        band_total, internal_total = total('band_total'), total(
            'internal_total')
        if band_total == 0:
            print_log(
                'BoundaryAccuracyMetric: no scored pixel lies in the '
                'boundary band (no label boundary in the data?); band_acc '
                'is NaN.',
                logger,
                level=30)
        intersect = total('intersect').astype(np.float64)
        union = total('union').astype(np.float64)
        with np.errstate(divide='ignore', invalid='ignore'):
            iou = intersect / union  # 0 / 0 = NaN: class absent, skipped
        miou = float(
            np.nanmean(iou)) if np.isfinite(iou).any() else float('nan')
        return OrderedDict(
            band_acc=percent(total('band_correct'), band_total),
            internal_acc=percent(total('internal_correct'), internal_total),
            mIoU=round(100.0 * miou, 2) if np.isfinite(miou) else miou,
            band_fraction=percent(band_total, band_total + internal_total))
