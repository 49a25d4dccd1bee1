"""Loading transforms that fail with a clear message naming the bad file.

They are drop-in replacements for ``LoadImageFromFile`` and mmseg's
``LoadAnnotations``. Without them an undecodable image ends in a bare
assertion (an empty one in a raw ``cv2.error``), an undecodable label PNG in
``'NoneType' object has no attribute 'squeeze'``, a label outside the class
range in a cross-entropy error (or a CUDA device-side assert) that names no
file at all, and a label of another size than its image trains silently,
misaligned (the random crop and flip cut both at the image's coordinates).
"""
from typing import Optional

import cv2
import mmcv
import numpy as np
from mmcv.transforms import BaseTransform, LoadImageFromFile
from mmengine import fileio
from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import TRANSFORMS

from ..utils import check_int


class UnreadableFileError(ValueError):
    """An image or label file exists but cannot be decoded."""


#: What decoding raises: Pillow ``OSError`` / ``ValueError``; OpenCV
#: ``cv2.error`` (not a subclass of either), e.g. for an empty file.
_DECODE_ERRORS = (OSError, ValueError, cv2.error)


def _unreadable_message(path: str, data: Optional[bytes] = None) -> str:
    problem = ('is empty (0 bytes)' if data is not None and not data else
               'cannot be decoded as an image. It is corrupt or truncated')
    return (f'{path} {problem}: regenerate or re-download it, or remove it '
            "from the dataset's file list.")


def _decode(path: str, flag: str, backend: str,
            backend_args: Optional[dict]) -> np.ndarray:
    """Reads and decodes an image file, or raises naming the file."""
    try:
        data = fileio.get(path, backend_args=backend_args)
    except FileNotFoundError as error:
        raise FileNotFoundError(
            f'{path} does not exist, but the dataset lists it: check the '
            "dataset's data_root, data_prefix and ann_file.") from error
    try:
        # cv2 returns None for bytes it cannot decode; Pillow raises.
        image = mmcv.imfrombytes(data, flag=flag, backend=backend)
    except _DECODE_ERRORS as error:
        raise UnreadableFileError(_unreadable_message(path, data)) from error
    if image is None:
        raise UnreadableFileError(_unreadable_message(path, data))
    return image


@TRANSFORMS.register_module()
class CheckedLoadImageFromFile(LoadImageFromFile):
    """``LoadImageFromFile`` that names the file it cannot decode.

    Takes the same arguments as :class:`mmcv.transforms.LoadImageFromFile`;
    ``ignore_empty=True`` still skips unreadable images silently.
    """

    def transform(self, results: dict) -> Optional[dict]:
        try:
            image = _decode(results['img_path'], self.color_type,
                            self.imdecode_backend, self.backend_args)
        except (FileNotFoundError, UnreadableFileError):
            if self.ignore_empty:
                return None
            raise
        if self.to_float32:
            image = image.astype(np.float32)
        results['img'] = image
        results['img_shape'] = image.shape[:2]
        results['ori_shape'] = image.shape[:2]
        return results


@TRANSFORMS.register_module()
class CheckedLoadAnnotations(LoadAnnotations):
    """mmseg's ``LoadAnnotations`` that checks every label value, and that
    the label has its image's size.

    The size is compared with the image as loaded (``ori_shape``), so the
    transform may follow a ``Resize`` as in mmseg's test pipelines.

    Args:
        num_classes (int): labels must lie in ``[0, num_classes)``, after
            ``reduce_zero_label`` and ``label_map`` are applied.
        ignore_index (int): the one value allowed outside that range.
            Defaults to 255.
        **kwargs: the arguments of mmseg's ``LoadAnnotations``.
    """

    def __init__(self, num_classes: int, ignore_index: int = 255,
                 **kwargs) -> None:
        check_int(num_classes, 'CheckedLoadAnnotations: num_classes', 1)
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.ignore_index = ignore_index

    def _load_seg_map(self, results: dict) -> None:
        path = results['seg_map_path']
        try:
            super()._load_seg_map(results)
        except FileNotFoundError:
            raise
        except (AttributeError, ) + _DECODE_ERRORS as error:
            # Pillow raises on bytes that are not an image; with cv2,
            # mmcv.imfrombytes returns None and the parent fails on it, or
            # raises cv2.error on an empty file.
            raise UnreadableFileError(_unreadable_message(path)) from error
        check_seg_map(results, self.num_classes, self.ignore_index)

    def __repr__(self) -> str:
        return (f'{super().__repr__()[:-1]}, num_classes={self.num_classes}, '
                f'ignore_index={self.ignore_index})')


def check_seg_map(results: dict, num_classes: int,
                  ignore_index: int = 255) -> None:
    """Raises, naming the label file, unless ``results['gt_seg_map']`` holds
    one class index per pixel of its image as loaded, each in
    ``[0, num_classes)`` or ``ignore_index``.

    Args:
        results (dict): a pipeline's results with ``gt_seg_map`` (and
            ``seg_map_path``, ``ori_shape``, ``img_path`` where known).
        num_classes (int): the number of classes.
        ignore_index (int): the one value allowed outside the classes.
    """
    path = results.get('seg_map_path', '(in memory)')
    label = results['gt_seg_map']
    if label.ndim != 2:
        raise ValueError(
            f'{path} has shape {label.shape}; a label map must hold one '
            'class index per pixel (a grey or palette PNG), not colours. '
            'Convert it with the dataset converter first.')
    image_shape = results.get('ori_shape')
    if image_shape is not None and tuple(label.shape[:2]) != tuple(
            image_shape[:2]):
        height, width = label.shape[:2]
        image_height, image_width = image_shape[:2]
        raise ValueError(
            f'{path} is {height}x{width} pixels (height x width), but its '
            f"image {results.get('img_path', '(in memory)')} is "
            f'{image_height}x{image_width}: a label must have its '
            "image's size, one class index per image pixel. Check that "
            'the label belongs to this image (the dataset pairs them by '
            'file name) and was not resized or cropped.')
    values = np.unique(label)
    bad = values[(values >= num_classes) & (values != ignore_index)]
    if bad.size:
        raise ValueError(
            f'{path} has label values {bad.tolist()} outside the '
            f'{num_classes} classes [0, {num_classes - 1}] '
            f'(and {ignore_index} = ignore). Check that the file is '
            'a class-index map of this dataset (e.g. Cityscapes needs '
            '*_labelTrainIds.png, not *_labelIds.png) and that '
            'num_classes matches.')


@TRANSFORMS.register_module()
class CheckSegMap(BaseTransform):
    """Checks the label that mmseg's ``LoadAnnotations`` loaded (see
    :func:`check_seg_map`); does nothing when there is no label, as in
    inference, where mmseg's APIs drop ``LoadAnnotations``.

    Test pipelines use it after mmseg's own ``LoadImageFromFile`` and
    ``LoadAnnotations``, which mmseg's ``inference_model`` and
    ``MMSegInferencer`` find by those names.

    Args:
        num_classes (int): labels must lie in ``[0, num_classes)``.
        ignore_index (int): the one value allowed outside that range.
            Defaults to 255.
    """

    def __init__(self, num_classes: int, ignore_index: int = 255) -> None:
        check_int(num_classes, 'CheckSegMap: num_classes', 1)
        self.num_classes = num_classes
        self.ignore_index = ignore_index

    def transform(self, results: dict) -> dict:
        if 'gt_seg_map' in results:
            check_seg_map(results, self.num_classes, self.ignore_index)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_classes={self.num_classes}, '
                f'ignore_index={self.ignore_index})')
