"""A segmentor as an ONNX graph: one image-to-logits module and its export.

The graph takes an RGB image batch, ``N x 3 x H x W`` float32 in 0-255, and
normalises it itself; it returns the logits (or labels) at exactly the input
size. ``tools/deployment/pytorch2onnx.py`` exports and verifies a trained
model with it; the whole-model benchmark times the graph with onnxruntime.
"""
import inspect
import warnings
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config

Size = Tuple[int, int]

INSTALL_HINT = "pip install -e '.[deploy]' (or run `make setup`)"
#: Opsets: a pad whose amounts are computed in the graph needs 11; torch
#: 2.13's TorchScript exporter writes up to 20.
MIN_OPSET, MAX_OPSET = 11, 20


class ExportError(ValueError):
    """An argument the export cannot work with; the message says the fix."""


def require_onnx() -> None:
    """Raises unless onnx and onnxruntime can be imported."""
    missing = []
    for name in ('onnx', 'onnxruntime'):
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise ExportError(
            f'{" and ".join(missing)} not installed; the ONNX export needs '
            f'the deploy extra: {INSTALL_HINT}.')


class ExportableSegmentor(nn.Module):
    """A segmentor as one image-to-logits function, for tracing.

    Takes an RGB batch ``N x 3 x H x W`` in 0-255, applies the data
    preprocessor's channel order and normalisation, runs
    ``extract_feat`` and the decode head, and returns the logits at exactly
    ``H x W`` (or their argmax). The output size is read from the input
    tensor, so it stays symbolic in a dynamic graph: a head with an
    ``out_size`` argument (:class:`~mmseg_gcn.models.GCNHead`) produces that
    size itself; any other head's logits are resized bilinearly, as mmseg's
    ``predict`` does.

    Args:
        segmentor (nn.Module): An mmseg ``EncoderDecoder`` in eval mode.
        mean (Sequence[float], optional): Per-channel mean, in the channel
            order the model sees; None for no normalisation.
        std (Sequence[float], optional): Per-channel std (with ``mean``).
        to_bgr (bool): Whether the model sees BGR (the config converts no
            channels: mmcv loads images as BGR).
        output (str): ``'logits'`` or ``'labels'``.
    """

    def __init__(self,
                 segmentor: nn.Module,
                 mean: Optional[Sequence[float]],
                 std: Optional[Sequence[float]],
                 to_bgr: bool,
                 output: str = 'logits') -> None:
        super().__init__()
        self.segmentor = segmentor
        self.to_bgr = to_bgr
        self.output = output
        self.normalize = mean is not None
        if self.normalize:
            self.register_buffer(
                'mean', torch.tensor(mean, dtype=torch.float32).view(
                    1, -1, 1, 1), False)
            self.register_buffer(
                'std', torch.tensor(std, dtype=torch.float32).view(
                    1, -1, 1, 1), False)
        head = segmentor.decode_head
        self._head_sizes_itself = 'out_size' in inspect.signature(
            head.forward).parameters

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """RGB ``N x 3 x H x W`` (0-255) -> logits ``N x C x H x W`` or
        labels ``N x H x W``."""
        x = image.flip(1) if self.to_bgr else image
        if self.normalize:
            x = (x - self.mean) / self.std
        out_size = (image.shape[2], image.shape[3])
        feats = self.segmentor.extract_feat(x)
        head = self.segmentor.decode_head
        if self._head_sizes_itself:
            logits = head.forward(feats, out_size=out_size)
        else:
            logits = F.interpolate(
                head.forward(feats),
                size=out_size,
                mode='bilinear',
                align_corners=head.align_corners)
        if self.output == 'logits':
            return logits
        return to_labels(logits, head)


def to_labels(logits: torch.Tensor, head: nn.Module) -> torch.Tensor:
    """Logits -> label map ``N x H x W`` (int64), as mmseg predicts them: the
    argmax, or for one output channel the sigmoid against the head's
    ``threshold``."""
    if logits.shape[1] == 1:
        return (logits.sigmoid() > head.threshold).long()[:, 0]
    return logits.argmax(dim=1)


def channel_setup(cfg: Config) -> Tuple[Optional[list], Optional[list], bool]:
    """``(mean, std, to_bgr)`` from the config's ``data_preprocessor``.

    mmcv loads images as BGR; the preprocessor reverses the channels when
    ``bgr_to_rgb`` (or ``rgb_to_bgr``) is set, so the model sees RGB, and
    sees BGR otherwise. The graph's input is RGB.
    """
    preprocessor = cfg.model.get('data_preprocessor') or {}
    mean, std = preprocessor.get('mean'), preprocessor.get('std')
    if (mean is None) != (std is None):
        raise ExportError(
            'model.data_preprocessor of the config sets only one of mean and '
            'std; set both (or neither, for no normalisation).')
    converts = bool(
        preprocessor.get('bgr_to_rgb') or preprocessor.get('rgb_to_bgr'))
    return (None if mean is None else list(mean),
            None if std is None else list(std), not converts)


def export_onnx(model: ExportableSegmentor,
                out: str,
                shape: Size,
                dynamic: bool = False,
                opset: int = 17,
                batch: int = 1) -> None:
    """Traces ``model`` at ``shape`` and writes the ONNX graph to ``out``.

    Args:
        model (ExportableSegmentor): The module to trace, in eval mode.
        out (str): The ONNX file to write.
        shape (tuple[int, int]): Input height and width of the trace.
        dynamic (bool): Whether batch, height and width stay free in the
            graph (else the graph takes only ``shape``). Defaults to False.
        opset (int): ONNX opset, :data:`MIN_OPSET` to :data:`MAX_OPSET`.
            Defaults to 17.
        batch (int): Batch of the trace (the graph's batch unless
            ``dynamic``). Defaults to 1.
    """
    dummy = torch.zeros(batch, 3, *shape)
    name = model.output
    axes = None
    if dynamic:
        image_axes = {0: 'batch', 2: 'height', 3: 'width'}
        out_axes = ({0: 'batch', 2: 'height', 3: 'width'}
                    if name == 'logits' else {0: 'batch', 1: 'height',
                                              2: 'width'})
        axes = {'image': image_axes, name: out_axes}
    with torch.no_grad(), warnings.catch_warnings():
        # The TorchScript exporter on purpose: the newer torch.export-based
        # one needs onnxscript, which the deploy extra does not install.
        warnings.filterwarnings(
            'ignore', message='You are using the legacy TorchScript-based')
        torch.onnx.export(
            model, (dummy, ),
            out,
            input_names=['image'],
            output_names=[name],
            dynamic_axes=axes,
            opset_version=opset,
            dynamo=False,
            do_constant_folding=True)
