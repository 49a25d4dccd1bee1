"""Loading transforms that fail with a clear message naming the bad file.

They are drop-in replacements for ``LoadImageFromFile`` and mmseg's
``LoadAnnotations``. Without them an undecodable image ends in a bare
assertion, an undecodable label PNG in ``'NoneType' object has no attribute
'squeeze'``, and a label outside the class range in a cross-entropy error (or a
CUDA device-side assert) that names no file at all.
"""
from typing import Optional

import mmcv
import numpy as np
from mmcv.transforms import LoadImageFromFile
from mmengine import fileio
from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import TRANSFORMS


class UnreadableFileError(ValueError):
    """An image or label file exists but cannot be decoded."""


def _unreadable_message(path: str) -> str:
    return (f'{path} cannot be decoded as an image. It is corrupt or '
            'truncated: regenerate or re-download it, or remove it from the '
            "dataset's file list.")


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
    except (OSError, ValueError) as error:
        raise UnreadableFileError(_unreadable_message(path)) from error
    if image is None:
        raise UnreadableFileError(_unreadable_message(path))
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
    """mmseg's ``LoadAnnotations`` that checks every label value.

    Args:
        num_classes (int): labels must lie in ``[0, num_classes)``, after
            ``reduce_zero_label`` and ``label_map`` are applied.
        ignore_index (int): the one value allowed outside that range.
            Defaults to 255.
        **kwargs: the arguments of mmseg's ``LoadAnnotations``.
    """

    def __init__(self, num_classes: int, ignore_index: int = 255,
                 **kwargs) -> None:
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(
                f'CheckedLoadAnnotations: num_classes must be a positive int, '
                f'got {num_classes!r}')
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.ignore_index = ignore_index

    def _load_seg_map(self, results: dict) -> None:
        path = results['seg_map_path']
        try:
            super()._load_seg_map(results)
        except FileNotFoundError:
            raise
        except (AttributeError, OSError, ValueError) as error:
            # Pillow raises on bytes that are not an image; with cv2,
            # mmcv.imfrombytes returns None and the parent fails on it.
            raise UnreadableFileError(_unreadable_message(path)) from error
        label = results['gt_seg_map']
        if label.ndim != 2:
            raise ValueError(
                f'{path} has shape {label.shape}; a label map must hold one '
                'class index per pixel (a grey or palette PNG), not colours. '
                'Convert it with the dataset converter first.')
        self._check_range(label, path)

    def _check_range(self, label: np.ndarray, path: str) -> None:
        values = np.unique(label)
        bad = values[(values >= self.num_classes)
                     & (values != self.ignore_index)]
        if bad.size:
            raise ValueError(
                f'{path} has label values {bad.tolist()} outside the '
                f'{self.num_classes} classes [0, {self.num_classes - 1}] '
                f'(and {self.ignore_index} = ignore). Check that the file is '
                'a class-index map of this dataset (e.g. Cityscapes needs '
                '*_labelTrainIds.png, not *_labelIds.png) and that '
                'num_classes matches.')

    def __repr__(self) -> str:
        return (f'{super().__repr__()[:-1]}, num_classes={self.num_classes}, '
                f'ignore_index={self.ignore_index})')
