"""Valid receptive field by occlusion (Fig. 3 of "Large Kernel Matters").

The paper maps the *valid receptive field* (VRF) of a score-map unit with the
method of Zhou et al. 2015 ("Object detectors emerge in deep scene CNNs"):
occlude the input with small patches and record how much the chosen unit's
score changes. Here:

- the unit is the logit of one class (by default the class predicted there)
  at one output pixel; the segmentors give logits at the input resolution,
  so an output pixel is an image pixel;
- an occluder is a ``patch`` x ``patch`` square filled with the mean colour
  of the model's data preprocessor (0 after normalisation), centred on a
  grid with step ``stride`` over the whole image, or at ``num`` random
  (seeded) positions;
- the discrepancy of an occluder is ``|score(occluded) - score(image)|``; the
  map averages, at every image pixel, the discrepancies of the occluders
  covering it, and is normalised to [0, 1] by its maximum.

Occluded copies are run in batches of ``batch_size``; the image is used at
its own size, with whole-image inference.
"""
import os.path as osp
from typing import Callable, Dict, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from scipy import ndimage
from torch import Tensor

from ..utils import check_int
from .segmentor_probe import SegmentorProbe, resolve_class
from .vrf_figure import plot_vrf_figure

Pixel = Tuple[int, int]
ForwardFn = Callable[[Tensor], Tensor]


def check_pixel(pixel: Sequence[int], size: Tuple[int, int]) -> Pixel:
    """Checks that ``pixel = (y, x)`` lies inside an image of ``size``.

    Args:
        pixel (Sequence[int]): Row and column.
        size (tuple[int, int]): Image height and width.

    Returns:
        tuple[int, int]: The pixel.
    """
    if len(pixel) != 2:
        raise ValueError(f'pixel must be (y, x), got {pixel!r}.')
    y, x = (int(v) for v in pixel)
    h, w = size
    if not (0 <= y < h and 0 <= x < w):
        raise ValueError(
            f'pixel (y={y}, x={x}) is outside the {h} x {w} image; give a '
            f'row in [0, {h - 1}] and a column in [0, {w - 1}].')
    return y, x


def occluder_boxes(size: Tuple[int, int],
                   patch: int,
                   stride: Optional[int] = None,
                   num: Optional[int] = None,
                   seed: int = 0) -> np.ndarray:
    """Occluder positions, clipped to the image.

    Args:
        size (tuple[int, int]): Image height and width.
        patch (int): Side of the square occluder in pixels.
        stride (int, optional): Step of the grid of occluder centres.
        num (int, optional): Number of random centres instead of a grid.
            Exactly one of ``stride`` and ``num`` must be given.
        seed (int): Seed of the random centres. Defaults to 0.

    Returns:
        np.ndarray: (N, 4) int array of ``y0, y1, x0, x1`` (end exclusive).
    """
    h, w = size
    check_int(patch, 'patch', 1)
    if (stride is None) == (num is None):
        raise ValueError('give exactly one of stride (a grid of occluders) '
                         'and num (random occluders).')
    if stride is not None:
        check_int(stride, 'stride', 1)
        ys, xs = np.meshgrid(
            np.arange(0, h, stride), np.arange(0, w, stride), indexing='ij')
        centres = np.stack([ys.ravel(), xs.ravel()], axis=1)
    else:
        check_int(num, 'num', 1)
        rng = np.random.default_rng(seed)
        centres = np.stack([rng.integers(0, h, num),
                            rng.integers(0, w, num)],
                           axis=1)
    y0 = np.clip(centres[:, 0] - patch // 2, 0, h)
    x0 = np.clip(centres[:, 1] - patch // 2, 0, w)
    y1 = np.clip(centres[:, 0] - patch // 2 + patch, 0, h)
    x1 = np.clip(centres[:, 1] - patch // 2 + patch, 0, w)
    return np.stack([y0, y1, x0, x1], axis=1).astype(np.int64)


@torch.no_grad()
def occlusion_sensitivity(forward: ForwardFn,
                          inputs: Tensor,
                          pixel: Sequence[int],
                          class_index: Optional[int] = None,
                          patch: int = 16,
                          stride: Optional[int] = 8,
                          num: Optional[int] = None,
                          seed: int = 0,
                          fill: float = 0.0,
                          batch_size: int = 8,
                          image_size: Optional[Tuple[int, int]] = None,
                          progress: bool = True,
                          desc: str = 'occlusion') -> Dict[str, object]:
    """Occlusion sensitivity of one output unit.

    Args:
        forward (callable): Maps a batch of inputs (B, C, H, W) to logits
            (B, K, H', W') with ``H' >= H`` and ``W' >= W`` aligned at the
            top-left (e.g. a segmentor's ``encode_decode``).
        inputs (Tensor): One preprocessed image, (1, C, H, W).
        pixel (Sequence[int]): The output unit's ``(y, x)``.
        class_index (int, optional): The unit's class. Defaults to None: the
            class predicted at ``pixel`` on the whole image.
        patch (int): Occluder side in pixels. Defaults to 16.
        stride (int, optional): Step of the occluder grid. Defaults to 8.
        num (int, optional): Random occluders instead of a grid (then
            ``stride`` must be None). Defaults to None.
        seed (int): Seed of the random occluders. Defaults to 0.
        fill (float): Value of the occluded input pixels. Defaults to 0.
        batch_size (int): Occluded copies per forward pass. Defaults to 8.
        image_size (tuple[int, int], optional): Size of the image inside
            ``inputs`` when they are padded at the bottom/right; only this
            area is occluded and mapped. Defaults to None: all of ``inputs``.
        progress (bool): Show a progress bar. Defaults to True.
        desc (str): Label of the progress bar. Defaults to 'occlusion'.

    Returns:
        dict: ``map`` (H, W float array in [0, 1]), ``raw`` (the unnormalised
        mean discrepancy), ``class_index``, ``score`` (the unit's logit on
        the image) and ``pixel``.
    """
    from tqdm import tqdm

    if inputs.dim() != 4 or inputs.shape[0] != 1:
        raise ValueError(f'inputs must be one image (1, C, H, W), got shape '
                         f'{tuple(inputs.shape)}.')
    check_int(batch_size, 'batch_size', 1)
    h, w = inputs.shape[-2:]
    if image_size is not None:
        if not (0 < image_size[0] <= h and 0 < image_size[1] <= w):
            raise ValueError(f'image_size {tuple(image_size)} does not fit '
                             f'in the {h} x {w} inputs.')
        h, w = (int(v) for v in image_size)
    y, x = check_pixel(pixel, (h, w))
    logits = forward(inputs)
    if logits.shape[-2] < h or logits.shape[-1] < w:
        raise ValueError(
            f'the model gives {tuple(logits.shape[-2:])} logits for a '
            f'{h} x {w} input; occlusion needs them at the input size.')
    num_classes = logits.shape[1]
    if class_index is None:
        class_index = int(logits[0, :, y, x].argmax())
    elif not 0 <= class_index < num_classes:
        raise ValueError(f'class_index must be in [0, {num_classes - 1}], '
                         f'got {class_index}.')
    score = float(logits[0, class_index, y, x])
    boxes = occluder_boxes((h, w), patch, stride, num, seed)

    total = torch.zeros(h, w, dtype=torch.float64)
    count = torch.zeros(h, w, dtype=torch.float64)
    batches = range(0, len(boxes), batch_size)
    for start in tqdm(batches, desc=desc, disable=not progress, unit='batch'):
        chunk = boxes[start:start + batch_size]
        batch = inputs.repeat(len(chunk), 1, 1, 1)
        for i, (y0, y1, x0, x1) in enumerate(chunk):
            batch[i, :, y0:y1, x0:x1] = fill
        scores = forward(batch)[:, class_index, y, x].double().cpu()
        for (y0, y1, x0, x1), s in zip(chunk, scores):
            total[y0:y1, x0:x1] += abs(float(s) - score)
            count[y0:y1, x0:x1] += 1
    raw = (total / count.clamp_min(1)).numpy()
    peak = raw.max()
    heat = raw / peak if peak > 0 else np.zeros_like(raw)
    return dict(
        map=heat.astype(np.float32),
        raw=raw,
        class_index=class_index,
        score=score,
        pixel=(y, x))


def largest_object(label: np.ndarray,
                   background: Optional[int] = 0,
                   ignore_index: int = 255) -> np.ndarray:
    """The mask of the largest object of a label (or prediction) map.

    Objects are the 8-connected regions of one label that is neither
    ``background`` nor ``ignore_index``.

    Args:
        label (np.ndarray): (H, W) map of class indices.
        background (int, optional): Background label. Defaults to 0.
        ignore_index (int): Void label. Defaults to 255.

    Returns:
        np.ndarray: (H, W) bool mask.
    """
    label = np.asarray(label)
    if label.ndim != 2:
        raise ValueError(f'label must be (H, W), got shape {label.shape}.')
    best, best_area = None, 0
    for value in np.unique(label):
        if value == background or value == ignore_index:
            continue
        components, n = ndimage.label(
            label == value, structure=np.ones((3, 3)))
        areas = np.bincount(components.ravel())[1:]
        i = int(areas.argmax())
        if areas[i] > best_area:
            best, best_area = components == i + 1, int(areas[i])
    if best is None:
        raise ValueError(
            'no object in the label map: every pixel is background '
            f'({background}) or void ({ignore_index}); give --pixel instead.')
    return best


def object_centre(label: np.ndarray,
                  background: Optional[int] = 0,
                  ignore_index: int = 255) -> Pixel:
    """The centre of the largest object of a label (or prediction) map.

    The centre is the pixel of the largest object (see
    :func:`largest_object`) farthest from its outline (so it lies on the
    object even when the object is not convex); of several, the one nearest
    the object's centroid.

    Args:
        label (np.ndarray): (H, W) map of class indices.
        background (int, optional): Background label. Defaults to 0.
        ignore_index (int): Void label. Defaults to 255.

    Returns:
        tuple[int, int]: ``(y, x)``.
    """
    best = largest_object(label, background, ignore_index)
    # pad so that the image border also counts as the object's outline
    inside = ndimage.distance_transform_edt(np.pad(best, 1))[1:-1, 1:-1]
    # of the pixels farthest inside, the one nearest the centroid
    ys, xs = np.nonzero(inside >= inside.max())
    cy, cx = np.argwhere(best).mean(axis=0)
    i = int(np.argmin((ys - cy)**2 + (xs - cx)**2))
    return int(ys[i]), int(xs[i])


def object_coverage(heat: np.ndarray, mask: np.ndarray,
                    level: float = 0.5) -> float:
    """How much of an object a valid receptive field covers: the share of
    the object's pixels where the normalised map is at least ``level`` of
    its peak.

    Args:
        heat (np.ndarray): (H, W) map normalised to a peak of 1 (the
            ``map`` of :func:`occlusion_sensitivity`).
        mask (np.ndarray): (H, W) bool mask of the object.
        level (float): Fraction of the peak. Defaults to 0.5.

    Returns:
        float: A share in [0, 1].
    """
    mask = np.asarray(mask, bool)
    if heat.shape[:2] != mask.shape or not mask.any():
        raise ValueError(f'need a non-empty object mask of the map size '
                         f'{heat.shape[:2]}, got {mask.shape}.')
    return float((heat[:mask.shape[0], :mask.shape[1]][mask] >= level).mean())


def compare_valid_receptive_fields(models: Sequence[Tuple[str, str]],
                                   image: str,
                                   out_file: str,
                                   pixel: Optional[Sequence[int]] = None,
                                   object_label: Optional[str] = None,
                                   object_from_prediction: bool = False,
                                   class_name: Union[None, int, str] = None,
                                   names: Optional[Sequence[str]] = None,
                                   patch: int = 16,
                                   stride: Optional[int] = 8,
                                   num: Optional[int] = None,
                                   seed: int = 0,
                                   batch_size: int = 8,
                                   background: Optional[int] = 0,
                                   device: str = 'cpu',
                                   progress: bool = True) -> Dict[str, object]:
    """Maps the valid receptive field of the same output unit in several
    models and saves them side by side in one figure.

    The unit is ``pixel``, or the centre (see :func:`object_centre`) of the
    largest object of the label map ``object_label`` or, with
    ``object_from_prediction``, of the first model's prediction.

    Args:
        models (Sequence[tuple[str, str]]): ``(config, checkpoint)`` pairs.
        image (str): Image file.
        out_file (str): PNG file to write.
        pixel (Sequence[int], optional): ``(y, x)`` of the output unit.
        object_label (str, optional): Label PNG (class indices) of the image.
        object_from_prediction (bool): Use the first model's prediction.
        class_name (int | str, optional): Class of the unit, by index or
            name. Defaults to None: each model's predicted class there.
        names (Sequence[str], optional): Panel titles. Defaults to the
            config file names.
        patch, stride, num, seed, batch_size: See
            :func:`occlusion_sensitivity`.
        background (int, optional): Background label for the object centre.
            Defaults to 0.
        device (str): Device. Defaults to 'cpu'.
        progress (bool): Show progress bars. Defaults to True.

    Returns:
        dict: ``out_file``, ``pixel``, ``results`` (one dict of
        :func:`occlusion_sensitivity` per model, plus ``name`` and, when the
        unit is an object's centre, ``object_coverage``, see
        :func:`object_coverage`) and ``object_mask`` (None for ``pixel``).
    """
    import mmcv
    from PIL import Image

    if not models:
        raise ValueError('give at least one (config, checkpoint) pair.')
    if names is not None and len(names) != len(models):
        raise ValueError(f'{len(names)} names for {len(models)} models.')
    if sum(
            x is not None and x is not False
            for x in (pixel, object_label, object_from_prediction)) != 1:
        raise ValueError('give exactly one of pixel, object_label and '
                         'object_from_prediction.')
    if not osp.isfile(image):
        raise FileNotFoundError(f'image file {image!r} does not exist.')
    bgr = mmcv.imread(image)
    if bgr is None:
        raise ValueError(f'cannot decode image {image!r}.')
    size = bgr.shape[:2]
    probes = [
        SegmentorProbe(cfg, ckpt, device,
                       names[i] if names is not None else None)
        for i, (cfg, ckpt) in enumerate(models)
    ]
    inputs = [p.preprocess(bgr) for p in probes]
    object_mask = None
    if pixel is not None:
        pixel = check_pixel(pixel, size)
    elif object_label is not None:
        if not osp.isfile(object_label):
            raise FileNotFoundError(
                f'label file {object_label!r} does not exist.')
        label = np.array(Image.open(object_label))
        if label.shape[:2] != size:
            raise ValueError(
                f'label {object_label!r} is {label.shape[:2]}, the image is '
                f'{size}; they must have the same size.')
        pixel = object_centre(label, background)
        object_mask = largest_object(label, background)
    else:
        pred = probes[0].predict(inputs[0])[:size[0], :size[1]]
        pixel = object_centre(pred, background)
        object_mask = largest_object(pred, background)
    results = []
    for probe, x in zip(probes, inputs):
        result = occlusion_sensitivity(
            probe.forward,
            x,
            pixel,
            class_index=resolve_class(class_name, probe.classes),
            patch=patch,
            stride=stride,
            num=num,
            seed=seed,
            batch_size=batch_size,
            image_size=size,
            progress=progress,
            desc=probe.name)
        result['name'] = probe.name
        results.append(result)
    titles = []
    for probe, r in zip(probes, results):
        classes = probe.classes
        cls = r['class_index']
        cls_name = classes[cls] if classes and cls < len(classes) else cls
        titles.append(f"{r['name']}\nclass '{cls_name}' at "
                      f"(y={pixel[0]}, x={pixel[1]})")
    if object_mask is not None:
        for i, r in enumerate(results):
            r['object_coverage'] = object_coverage(r['map'], object_mask)
            titles[i] += (f"\n{100 * r['object_coverage']:.0f}% of "
                                    'the object >= half the peak')
    plot_vrf_figure(mmcv.bgr2rgb(bgr), results, titles, out_file)
    return dict(out_file=out_file, pixel=pixel, results=results,
                object_mask=object_mask)
