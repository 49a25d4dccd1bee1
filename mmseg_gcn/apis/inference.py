"""Segmenting image files of any size with mmseg's ``MMSegInferencer``.

:func:`infer_images` writes, for each image, a colour overlay of the
prediction (``vis/<stem>.png``) and the raw predicted mask
(``pred/<stem>.png``: one class index per pixel, the image's size, stored as
a palette PNG like PASCAL VOC's labels, so ``np.array(Image.open(path))``
gives the indices and an image viewer shows the colours).

Any image from 1x1 px up works. What can fail is the aspect ratio: a test
pipeline's ``Resize(scale=..., keep_ratio=True)`` scales the long side to at
most ``max(scale)``, so an image whose long side is more than about
``2 * max(scale)`` times its short side would become 0 px thin (OpenCV then
fails). :func:`infer_images` refuses such an image, naming it, before the
model is built.
"""
import os
import os.path as osp
from pathlib import Path
from typing import Callable, List, NamedTuple, Optional, Sequence, Union

import cv2
import numpy as np
import torch.nn as nn
from mmcv.image import rescale_size
from mmcv.transforms import Compose
from mmengine.config import ConfigDict
from mmengine.structures import PixelData
from mmseg.apis import MMSegInferencer
from mmseg.structures import SegDataSample
from PIL import Image

from ..engine.head_channels import check_head_channels
from ..engine.launch import load_config
from ..engine.precision import inference_autocast

PathLike = Union[str, Path]

#: File extensions taken as images when a folder is given.
IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp',
                  '.ppm', '.pgm')

# Transforms of a test pipeline that read files: the image loader becomes the
# inferencer's loader (which also takes arrays), annotation loaders go.
_IMAGE_LOADERS = ('LoadImageFromFile', 'CheckedLoadImageFromFile')
_ANNOTATION_LOADERS = ('LoadAnnotations', 'CheckedLoadAnnotations',
                       'LoadDepthAnnotation')


class UnreadableImageError(ValueError):
    """An input file exists but cannot be decoded as an image."""


class UnsupportedImageSizeError(ValueError):
    """An image the test pipeline would resize to 0 px on a side."""


class CheckpointMismatchError(ValueError):
    """A checkpoint's weights do not fit the model built from the config."""


class InferenceResult(NamedTuple):
    """What :func:`infer_images` wrote for one image.

    Attributes:
        image (str): The input image.
        overlay (str): The colour overlay (PNG).
        mask (str): The predicted class-index mask (palette PNG).
        shape (tuple[int, int]): Height and width of image and mask.
    """

    image: str
    overlay: str
    mask: str
    shape: tuple


def _type_name(transform: dict) -> str:
    """``'mmseg.LoadAnnotations'`` -> ``'LoadAnnotations'``."""
    return str(transform['type']).rsplit('.', 1)[-1]


def _inference_transforms(cfg: ConfigDict) -> List[dict]:
    """The config's test pipeline without its annotation loaders."""
    return [
        dict(t) for t in cfg.test_dataloader.dataset.pipeline
        if _type_name(t) not in _ANNOTATION_LOADERS
    ]


def _with_numpy_mask(pred: SegDataSample) -> SegDataSample:
    """A copy of a prediction whose ``pred_sem_seg`` is a numpy array."""
    sample = pred.clone()
    sample.pred_sem_seg = PixelData(
        data=pred.pred_sem_seg.data.cpu().numpy())
    return sample


class SegInferencer(MMSegInferencer):
    """``MMSegInferencer`` for this package's configs.

    On top of mmseg's inferencer it:

    - accepts test pipelines that load with ``CheckedLoadImageFromFile`` /
      ``CheckedLoadAnnotations`` (mmseg's looks for ``LoadImageFromFile``
      only);
    - refuses a checkpoint that does not fit the config (mmseg's loads what
      matches, warns, and predicts with the rest left random);
    - draws 1x1 px images (mmseg's visualizer raises an ``IndexError``).

    Takes the arguments of :class:`mmseg.apis.MMSegInferencer`.
    """

    def _init_pipeline(self, cfg: ConfigDict) -> Compose:
        """Builds the test pipeline without its annotation loaders and with
        mmseg's ``InferencerLoader`` as image loader.

        Args:
            cfg (ConfigDict): The model config.

        Returns:
            Compose: The pipeline for one input image.
        """
        pipeline = _inference_transforms(cfg)
        loaders = [
            i for i, t in enumerate(pipeline)
            if _type_name(t) in _IMAGE_LOADERS
        ]
        if not loaders:
            raise ValueError(
                'the test pipeline (test_dataloader.dataset.pipeline) of the '
                f'config has no image loader; add one of {_IMAGE_LOADERS}.')
        # same arguments (backend, colour type, ...), also takes arrays
        pipeline[loaders[0]]['type'] = 'InferencerLoader'
        return Compose(pipeline)

    def _load_weights_to_model(self, model: nn.Module,
                               checkpoint: Optional[dict],
                               cfg: Optional[ConfigDict]) -> None:
        """Loads the weights after checking that they fit the model.

        Raises:
            CheckpointMismatchError: If parameter names or shapes differ.
        """
        if checkpoint is not None:
            check_weights_fit(model, checkpoint)
        super()._load_weights_to_model(model, checkpoint, cfg)

    def visualize(self, inputs: list, preds: List[SegDataSample],
                  **kwargs) -> Optional[List[np.ndarray]]:
        """mmseg's ``visualize``, given the predicted masks as numpy arrays.

        mmseg's visualizer indexes the image with ``mask == label``. For a
        1x1 px image that is a one-element torch tensor, which numpy takes
        as the integer index 0 or 1 (an ``IndexError``); a numpy mask
        indexes the pixels at any size.

        Args:
            inputs (list): The inputs, as mmseg's ``visualize`` takes them.
            preds (list[SegDataSample]): The predictions (not changed).
            **kwargs: The other arguments of mmseg's ``visualize``.

        Returns:
            list[np.ndarray], optional: The drawings, if asked for.
        """
        return super().visualize(inputs, [_with_numpy_mask(p) for p in preds],
                                 **kwargs)


def checkpoint_weights(checkpoint: dict) -> dict:
    """The weights a checkpoint holds, by parameter name: its
    ``state_dict`` (or the dict itself), without the ``module.`` prefix of a
    wrapped model.

    Args:
        checkpoint (dict): A loaded checkpoint.

    Returns:
        dict: Parameter and buffer names to tensors.
    """
    weights = checkpoint.get('state_dict', checkpoint)
    return {
        k[len('module.'):] if k.startswith('module.') else k: v
        for k, v in weights.items()
    }


def check_weights_fit(model: nn.Module, checkpoint: dict) -> None:
    """Raises :class:`CheckpointMismatchError` unless the checkpoint holds
    exactly the model's parameters and buffers, with the same shapes.

    Args:
        model (nn.Module): The model built from the config.
        checkpoint (dict): A loaded checkpoint.
    """
    weights = checkpoint_weights(checkpoint)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected))
    resized = sorted(
        k for k in set(expected) & set(weights)
        if tuple(getattr(weights[k], 'shape', ())) != tuple(expected[k].shape))
    if not (missing or unexpected or resized):
        return

    def listing(names: List[str]) -> str:
        shown = ', '.join(names[:3])
        return shown + (f' and {len(names) - 3} more' if len(names) > 3 else '')

    problems = []
    if missing:
        problems.append(f'missing {listing(missing)}')
    if unexpected:
        problems.append(f'unexpected {listing(unexpected)}')
    if resized:
        problems.append(f'other shapes for {listing(resized)}')
    raise CheckpointMismatchError(
        'the checkpoint does not fit the model of the config ('
        + '; '.join(problems) + '). Give the config the checkpoint was '
        'trained with (a copy is saved in its work dir).')


def find_images(path: PathLike) -> List[Path]:
    """Lists the images to segment.

    Args:
        path (str | Path): An image file, or a folder: its files with an
            extension in :data:`IMG_EXTENSIONS` (not its subfolders).

    Returns:
        list[Path]: The images, sorted by name.

    Raises:
        FileNotFoundError: If ``path`` does not exist, or is a folder
            without images.
    """
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.exists():
        raise FileNotFoundError(
            f'{str(path)!r} does not exist: give an image file or a folder '
            'of images.')
    images = sorted(p for p in path.iterdir()
                    if p.is_file() and p.suffix.lower() in IMG_EXTENSIONS)
    if not images:
        raise FileNotFoundError(
            f'folder {str(path)!r} holds no images (files ending in '
            f'{", ".join(IMG_EXTENSIONS)}).')
    return images


def read_image(path: PathLike) -> np.ndarray:
    """Decodes an image as the test pipeline does (OpenCV, BGR).

    Args:
        path (str | Path): Image file.

    Returns:
        np.ndarray: (H, W, 3) uint8 BGR image.

    Raises:
        UnreadableImageError: If the file cannot be decoded.
    """
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise UnreadableImageError(
            f'{str(path)!r} cannot be decoded as an image: it is corrupt, '
            'truncated or not an image. Replace it, or remove it from the '
            'input folder.')
    return image


def check_image_size(path: PathLike, shape: Sequence[int],
                     cfg: ConfigDict) -> None:
    """Refuses an image that the test pipeline would resize to nothing.

    Follows each ``Resize(scale=..., keep_ratio=True)`` of the test pipeline
    as mmcv computes it; other resizes give a fixed size.

    Args:
        path (str | Path): The image, for the message.
        shape (Sequence[int]): Its height and width.
        cfg (ConfigDict): The model config.

    Raises:
        UnsupportedImageSizeError: If a side would become 0 px.
    """
    height, width = shape[:2]
    for transform in _inference_transforms(cfg):
        scale = transform.get('scale')
        if (_type_name(transform) != 'Resize'
                or not transform.get('keep_ratio') or scale is None):
            continue
        scale = tuple(scale) if isinstance(scale, list) else scale
        new_width, new_height = rescale_size((width, height), scale)
        if min(new_width, new_height) < 1:
            fix = (f'With this config the long side may be at most about '
                   f'{2 * max(scale)} times the short side: crop the image, '
                   'or pad its short side.' if isinstance(scale, tuple) else
                   'Give a larger image.')
            raise UnsupportedImageSizeError(
                f'{str(path)!r} is {width}x{height} px (width x height): the '
                f'test pipeline of the config resizes it by {scale}, keeping '
                f'its aspect ratio, to {new_width}x{new_height} px, which the '
                f'model cannot take. {fix}')


def _output_names(images: Sequence[Path]) -> List[str]:
    """File stems, with the extension kept where two images share a stem
    (``a.jpg`` and ``a.png`` -> ``a_jpg`` and ``a_png``)."""
    stems = [p.stem for p in images]
    return [
        f'{p.stem}_{p.suffix.lstrip(".")}' if stems.count(p.stem) > 1 else
        p.stem for p in images
    ]


def save_mask(mask: np.ndarray, palette: Optional[Sequence[Sequence[int]]],
              out_file: str) -> None:
    """Saves class indices as an 8-bit PNG, with the palette if given."""
    if mask.min() < 0 or mask.max() > 255:
        raise ValueError('class indices must lie in [0, 255] to be saved '
                         'as an 8-bit PNG')
    image = Image.fromarray(mask.astype(np.uint8), mode='L')
    if palette is not None:
        image = image.convert('P')
        flat = [int(c) for color in palette for c in color][:768]
        image.putpalette(flat + [0] * (768 - len(flat)))
    image.save(out_file)


def infer_images(config: PathLike,
                 checkpoint: PathLike,
                 inputs: PathLike,
                 out_dir: PathLike,
                 device: Optional[str] = None,
                 opacity: float = 0.6,
                 with_labels: bool = True,
                 on_result: Optional[Callable[[InferenceResult], None]] = None,
                 amp: bool = False
                 ) -> List[InferenceResult]:
    """Segments an image or a folder of images and writes the results.

    Writes ``<out_dir>/vis/<stem>.png`` (the image with the coloured
    prediction on top) and ``<out_dir>/pred/<stem>.png`` (the class indices,
    same size as the image) for each image.

    Args:
        config (str | Path): Model config.
        checkpoint (str | Path): Checkpoint trained with that config.
        inputs (str | Path): Image file or folder of images.
        out_dir (str | Path): Output folder.
        device (str, optional): ``'cpu'``, ``'cuda'``, ...; defaults to a
            GPU if there is one.
        opacity (float): Opacity of the prediction in the overlays.
            Defaults to 0.6.
        with_labels (bool): Write class names on the overlays. Defaults to
            True.
        on_result (Callable, optional): Called with each image's
            :class:`InferenceResult` as soon as it is written (progress).
        amp (bool): Infer under automatic mixed precision (bf16 on CPU,
            fp16 on a GPU). Defaults to False.

    Returns:
        list[InferenceResult]: What was written for each image.

    Raises:
        FileNotFoundError: If the config, checkpoint or inputs are missing.
        UnreadableImageError: If an input cannot be decoded.
        UnsupportedImageSizeError: If the test pipeline would resize an
            input to 0 px on a side.
        HeadChannelsError: If the config's heads do not take its backbone's
            output channels.
        CheckpointMismatchError: If the checkpoint does not fit the config.

        All but the last are checked before the model is built.
    """
    for kind, path in (('config', config), ('checkpoint', checkpoint)):
        if not osp.isfile(path):
            raise FileNotFoundError(f'{kind} file {str(path)!r} does not '
                                    'exist.')
    cfg = load_config(str(config))
    images = find_images(inputs)
    shapes = []
    for path in images:
        shapes.append(read_image(path).shape[:2])
        check_image_size(path, shapes[-1], cfg)
    check_head_channels(cfg)
    inferencer = SegInferencer(
        model=cfg, weights=str(checkpoint), device=device)
    # one progress bar per image would be noise; on_result reports instead
    inferencer.show_progress = False
    palette = inferencer.model.dataset_meta.get('palette')
    vis_dir, pred_dir = osp.join(out_dir, 'vis'), osp.join(out_dir, 'pred')
    os.makedirs(vis_dir, exist_ok=True)
    os.makedirs(pred_dir, exist_ok=True)
    results = []
    for image, shape, name in zip(images, shapes, _output_names(images)):
        with inference_autocast(amp):
            output = inferencer(
                str(image), return_vis=True, opacity=opacity,
                with_labels=with_labels)
        mask = np.asarray(output['predictions'])
        if mask.shape != tuple(shape):
            raise RuntimeError(
                f'the prediction for {str(image)!r} has shape {mask.shape}, '
                f'not the image size {tuple(shape)}')
        overlay = osp.join(vis_dir, f'{name}.png')
        mask_file = osp.join(pred_dir, f'{name}.png')
        # the visualizer draws in RGB, OpenCV writes BGR
        cv2.imwrite(overlay, np.ascontiguousarray(
            output['visualization'][..., ::-1]))
        save_mask(mask, palette, mask_file)
        results.append(InferenceResult(str(image), overlay, mask_file,
                                       tuple(shape)))
        if on_result is not None:
            on_result(results[-1])
    return results
