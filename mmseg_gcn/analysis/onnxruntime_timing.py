"""A segmentor's forward pass as its exported ONNX graph in onnxruntime's CPU
session: what a user deploying on a CPU would run, timed by the whole-model
benchmark beside torch's forward."""
import contextlib
import os
import os.path as osp
import sys
import tempfile
from typing import Iterator

import torch
import torch.nn as nn

from ..deployment import (ExportableSegmentor, ExportError, export_onnx,
                          require_onnx)


def check_onnxruntime(device: torch.device) -> None:
    """Raises ValueError, saying the fix, unless onnxruntime can be timed:
    on the CPU, with onnx and onnxruntime installed."""
    if device.type != 'cpu':
        raise ValueError(
            f'onnxruntime is timed in its CPU session only, not on '
            f'{device}; use --device cpu, or leave out --onnxruntime.')
    try:
        require_onnx()
    except ExportError as error:
        raise ValueError(str(error)) from None


@contextlib.contextmanager
def _process_stdout_discarded() -> Iterator[None]:
    """Sends what C++ code writes to the process's stdout to /dev/null:
    torch 2.13's exporter always turns its ONNX log on, which prints the
    whole graph there when an export fails."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


class OnnxRuntimeForward:
    """One forward pass of a segmentor's ONNX graph on fixed inputs.

    The segmentor is exported (fp32, static shape) at the inputs' size as
    :class:`~mmseg_gcn.deployment.ExportableSegmentor` without normalisation,
    so the graph sees the same tensor as ``encode_decode`` and returns the
    logits at the input size. The session uses as many threads as torch.

    Args:
        segmentor (nn.Module): An mmseg segmentor; set to eval mode.
        inputs (torch.Tensor): The ``N x 3 x H x W`` batch every call runs.

    Raises:
        ExportError: The exporter or onnxruntime refused the model (e.g.
            torch's ONNX exporter takes no adaptive pooling whose output
            size does not divide its input, as in PSPNet's and UPerNet's
            pyramid pooling), with the first line of their reason.
    """

    def __init__(self, segmentor: nn.Module, inputs: torch.Tensor) -> None:
        import onnxruntime as ort
        graph = ExportableSegmentor(segmentor.eval(), None, None,
                                    False).eval()
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        options.inter_op_num_threads = 1
        with tempfile.TemporaryDirectory() as tmp:
            path = osp.join(tmp, 'model.onnx')
            try:
                with _process_stdout_discarded():
                    export_onnx(graph, path, tuple(inputs.shape[2:]),
                                batch=inputs.shape[0])
                self.session = ort.InferenceSession(
                    path, options, providers=['CPUExecutionProvider'])
            except Exception as error:  # noqa: B902 -- the exporter's types
                # its message goes on with the whole graph: the first line
                reason = str(error).strip().splitlines()[0]
                reason = reason.split(' Please ')[0].rstrip('. ')
                raise ExportError(f'no ONNX graph: {reason}') from None
        self.feed = {'image': inputs.detach().cpu().contiguous().numpy()}

    def __call__(self) -> torch.Tensor:
        """Runs the graph; returns its logits."""
        return torch.from_numpy(self.session.run(None, self.feed)[0])
