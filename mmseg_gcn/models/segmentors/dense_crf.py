"""Dense CRF post-processing: the "+CRF" rows of the paper's Tables 7-10.

A fully connected CRF (Krähenbühl and Koltun, NeurIPS 2011) refines the
softmax probabilities of a segmentor with an appearance kernel (nearby
pixels of similar colour prefer the same label) and a smoothness kernel.
The paper applies it after multi-scale testing but gives none of its
parameters; the defaults here are DeepLab's for PASCAL VOC (Chen et al.,
ICLR 2015): 10 mean-field iterations, appearance kernel weight 4 with
``sxy=121``, ``srgb=5``, smoothness kernel weight 3 with ``sxy=3``.

The CRF comes from the optional ``crf`` extra (the ``pydensecrf2``
package, built from source, so it needs a C++ compiler)::

    pip install -e ".[crf]"

Use it at test time by wrapping the segmentor, in a config::

    model = dict(type='DenseCRFSegmentor', module=<the segmentor>,
                 crf=dict(iterations=10))

or on an existing config with :func:`add_crf_to_config`. The wrapper also
takes a test-time-augmentation pipeline (``tta_pipeline``) and then merges
the augmented views first, as mmseg's ``SegTTAModel`` does, and refines the
merged probabilities: "multi-scale + CRF".
"""
from typing import Any, List, Optional, Union

import mmcv
import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config, ConfigDict
from mmengine.structures import PixelData
from mmseg.models.segmentors.seg_tta import SegTTAModel
from mmseg.registry import MODELS
from mmseg.utils import SampleList

CRF_EXTRA_MESSAGE = (
    'Dense CRF post-processing needs the optional "crf" extra, which is not '
    'installed: run `pip install -e ".[crf]"` in the repository (it builds '
    'the pydensecrf2 package from source and needs a C++ compiler, e.g. '
    '`apt-get install g++`).')


class MissingCRFExtraError(ImportError):
    """Raised when the dense CRF is used without the ``crf`` extra."""


def import_densecrf() -> Any:
    """Imports ``pydensecrf.densecrf``.

    Returns:
        module: The ``pydensecrf.densecrf`` module.

    Raises:
        MissingCRFExtraError: If the ``crf`` extra is not installed.
    """
    try:
        import pydensecrf.densecrf as dcrf
    except ImportError as e:
        raise MissingCRFExtraError(CRF_EXTRA_MESSAGE) from e
    return dcrf


def crf_available() -> bool:
    """Whether the ``crf`` extra is installed."""
    try:
        import_densecrf()
    except MissingCRFExtraError:
        return False
    return True


class DenseCRF:
    """A fully connected CRF over class probabilities and an RGB image.

    Args:
        iterations (int): Mean-field iterations (>= 1). Defaults to 10.
        bilateral_weight (float): Weight (Potts compatibility) of the
            appearance kernel. Defaults to 4.
        bilateral_sxy (float): Its spatial standard deviation in pixels.
            Defaults to 121.
        bilateral_srgb (float): Its colour standard deviation.
            Defaults to 5.
        gaussian_weight (float): Weight of the smoothness kernel.
            Defaults to 3.
        gaussian_sxy (float): Its spatial standard deviation in pixels.
            Defaults to 3.
        eps (float): Probabilities are clipped to ``[eps, 1]`` before the
            log, so a zero never gives an infinite energy. Defaults to 1e-8.

    Raises:
        MissingCRFExtraError: If the ``crf`` extra is not installed.
    """

    def __init__(self,
                 iterations: int = 10,
                 bilateral_weight: float = 4.0,
                 bilateral_sxy: float = 121.0,
                 bilateral_srgb: float = 5.0,
                 gaussian_weight: float = 3.0,
                 gaussian_sxy: float = 3.0,
                 eps: float = 1e-8) -> None:
        self._dcrf = import_densecrf()
        if (isinstance(iterations, bool) or not isinstance(iterations, int)
                or iterations < 1):
            raise ValueError(
                f'iterations must be an integer >= 1, got {iterations!r}.')
        for name, value in (('bilateral_sxy', bilateral_sxy),
                            ('bilateral_srgb',
                             bilateral_srgb), ('gaussian_sxy', gaussian_sxy)):
            if not value > 0:
                raise ValueError(
                    f'{name} must be > 0 (a standard deviation), got '
                    f'{value!r}.')
        for name, value in (('bilateral_weight', bilateral_weight),
                            ('gaussian_weight', gaussian_weight)):
            if not value >= 0:
                raise ValueError(f'{name} must be >= 0, got {value!r}.')
        self.iterations = iterations
        self.bilateral_weight = float(bilateral_weight)
        self.bilateral_sxy = float(bilateral_sxy)
        self.bilateral_srgb = float(bilateral_srgb)
        self.gaussian_weight = float(gaussian_weight)
        self.gaussian_sxy = float(gaussian_sxy)
        self.eps = eps

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(iterations={self.iterations}, '
                f'bilateral=({self.bilateral_weight}, {self.bilateral_sxy}, '
                f'{self.bilateral_srgb}), gaussian=({self.gaussian_weight}, '
                f'{self.gaussian_sxy}))')

    def __call__(self, image: np.ndarray, probs: np.ndarray) -> np.ndarray:
        """Refines class probabilities.

        Args:
            image (np.ndarray): RGB image, (H, W, 3), uint8.
            probs (np.ndarray): Class probabilities, (C, H, W), C >= 2,
                summing to 1 over C.

        Returns:
            np.ndarray: Refined probabilities, (C, H, W), float32.
        """
        probs = np.asarray(probs, dtype=np.float32)
        if probs.ndim != 3 or probs.shape[0] < 2:
            raise ValueError(
                f'probs must have shape (C, H, W) with C >= 2, got '
                f'{probs.shape}.')
        num_classes, h, w = probs.shape
        image = np.asarray(image)
        if image.shape != (h, w, 3):
            raise ValueError(
                f'image must be an RGB image of the size of the '
                f'probabilities, ({h}, {w}, 3), got shape {image.shape}.')
        if image.dtype != np.uint8:
            raise ValueError(f'image must be uint8, got {image.dtype}.')
        crf = self._dcrf.DenseCRF2D(w, h, num_classes)
        unary = -np.log(np.clip(probs, self.eps, 1.0))
        crf.setUnaryEnergy(
            np.ascontiguousarray(unary.reshape(num_classes, -1)))
        crf.addPairwiseGaussian(
            sxy=self.gaussian_sxy, compat=self.gaussian_weight)
        crf.addPairwiseBilateral(
            sxy=self.bilateral_sxy,
            srgb=self.bilateral_srgb,
            rgbim=np.ascontiguousarray(image),
            compat=self.bilateral_weight)
        q = crf.inference(self.iterations)
        return np.asarray(q, dtype=np.float32).reshape(num_classes, h, w)


@MODELS.register_module()
class DenseCRFSegmentor(SegTTAModel):
    """Wraps a segmentor and refines its test predictions with a dense CRF.

    At test time each image's class probabilities (the softmax of
    ``seg_logits``, at the original image size) are refined by
    :class:`DenseCRF` together with the original image, read from the
    sample's ``img_path``; ``pred_sem_seg`` becomes the arg-max of the
    refined probabilities and ``seg_logits`` their log. With a
    test-time-augmentation pipeline the views are merged first (mean of the
    softmax, as mmseg's ``SegTTAModel``). A sigmoid (one-channel) model is
    refined as two classes.

    The wrapped segmentor's checkpoints load unchanged: mmengine loads a
    test-time wrapper's weights into its ``module``.

    Args:
        module (dict | nn.Module): The segmentor (a config or a module).
        crf (dict, optional): Arguments of :class:`DenseCRF`. Defaults to
            None (its defaults).
        data_preprocessor (dict | nn.Module, optional): See
            ``BaseTTAModel``. Defaults to None.

    Raises:
        MissingCRFExtraError: If the ``crf`` extra is not installed.
    """

    def __init__(self,
                 module: Union[dict, nn.Module],
                 crf: Optional[dict] = None,
                 data_preprocessor: Union[dict, nn.Module, None] = None):
        # fail before building a possibly large model
        crf_model = DenseCRF(**(crf or {}))
        super().__init__(module, data_preprocessor)
        self.crf = crf_model

    @staticmethod
    def _is_tta_batch(data: Union[dict, list, tuple]) -> bool:
        inputs = data['inputs'] if isinstance(data, dict) else data[0]
        return len(inputs) > 0 and isinstance(inputs[0], (list, tuple))

    def merge_preds(self, data_samples_list: List[SampleList]) -> SampleList:
        """Merges augmented views: the mean of their softmax, kept in
        ``seg_logits`` (as probabilities) for :meth:`refine`.

        Args:
            data_samples_list (list[list[SegDataSample]]): Per image, the
                predictions of all its views.

        Returns:
            list[SegDataSample]: One prediction per image.
        """
        merged = []
        for samples in data_samples_list:
            probs = sum(self._probs(s) for s in samples) / len(samples)
            sample = samples[0]
            sample.set_data({'seg_logits': PixelData(data=probs.log())})
            merged.append(sample)
        return merged

    def _probs(self, sample) -> torch.Tensor:
        logits = sample.seg_logits.data
        if logits.shape[0] == 1:  # sigmoid model: mmseg already applied it
            p = logits.clamp(0, 1)
            return torch.cat([1 - p, p])
        return logits.softmax(dim=0)

    def refine(self, sample):
        """Refines one prediction in place.

        Args:
            sample (SegDataSample): A prediction with ``seg_logits`` (or
                merged log-probabilities) at the original image size, and
                ``img_path``.

        Returns:
            SegDataSample: The same sample, with ``pred_sem_seg`` and
            ``seg_logits`` from the refined probabilities.
        """
        img_path = sample.metainfo.get('img_path')
        if img_path is None:
            raise ValueError(
                'DenseCRFSegmentor reads the original image from the '
                "sample's img_path, which this sample does not have.")
        image = mmcv.imread(img_path, channel_order='rgb')
        if image is None:
            raise FileNotFoundError(f'cannot read image {img_path!r}.')
        logits = sample.seg_logits.data
        # merged views carry log-probabilities; softmax leaves them as is
        probs = self._probs(sample)
        refined = self.crf(image, probs.detach().float().cpu().numpy())
        refined = torch.from_numpy(refined).to(logits.device)
        sample.set_data({
            'seg_logits':
            PixelData(data=refined.clamp_min(1e-8).log()),
            'pred_sem_seg':
            PixelData(data=refined.argmax(0, keepdim=True))
        })
        return sample

    def test_step(self, data: Union[dict, tuple, list]) -> SampleList:
        """Predicts (merging test-time-augmented views if the batch has
        them), then refines each prediction with the CRF.

        Args:
            data (dict | tuple | list): A batch from the test dataloader.

        Returns:
            list[SegDataSample]: The refined predictions.
        """
        if self._is_tta_batch(data):
            outputs = super().test_step(data)
        else:
            outputs = self.module.test_step(data)
        return [self.refine(sample) for sample in outputs]


def add_crf_to_config(cfg: Config, crf: Optional[dict] = None) -> Config:
    """Wraps the config's model in :class:`DenseCRFSegmentor`.

    A ``SegTTAModel`` (``--tta``) is replaced, not wrapped: the CRF wrapper
    merges the augmented views itself.

    Args:
        cfg (Config): A test config (changed in place).
        crf (dict, optional): :class:`DenseCRF` arguments. Defaults to None:
            the config's ``crf_cfg`` if it has one, else the defaults.

    Returns:
        Config: ``cfg``.

    Raises:
        MissingCRFExtraError: If the ``crf`` extra is not installed.
    """
    import_densecrf()
    if crf is None:
        crf = cfg.get('crf_cfg') or {}
    model = cfg.model
    if model.get('type') in ('SegTTAModel', 'DenseCRFSegmentor'):
        model = model['module']
    cfg.model = ConfigDict(
        type='DenseCRFSegmentor', module=model, crf=dict(crf))
    return cfg
