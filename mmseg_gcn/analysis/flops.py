"""FLOPs of a segmentor with mmengine's counter (``FlopAnalyzer``: one
multiply-accumulate counts as one FLOP), without its warnings about
unsupported ops and uncalled modules: the one FLOPs counter of the analyses."""
from typing import Tuple

import torch
import torch.nn as nn


def flop_total(module: nn.Module, x: torch.Tensor) -> float:
    """FLOPs (mmengine's multiply-accumulates) of ``module(x)``.

    Args:
        module (nn.Module): The module, in the mode it is counted in.
        x (torch.Tensor): Its input.

    Returns:
        float: The count.
    """
    from mmengine.analysis import FlopAnalyzer
    analyzer = FlopAnalyzer(module, x)
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    return float(analyzer.total())


class _Logits(nn.Module):
    """``encode_decode`` of a segmentor as a plain ``forward(x)``."""

    def __init__(self, segmentor: nn.Module, size: Tuple[int, int]) -> None:
        super().__init__()
        self.segmentor = segmentor
        self.meta = dict(ori_shape=size, img_shape=size, pad_shape=size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.segmentor.encode_decode(x, [self.meta])


def logits_flops(model: nn.Module, size: Tuple[int, int],
                 device: torch.device) -> float:
    """FLOPs (mmengine's multiply-accumulates) of one image's logits.

    Args:
        model (nn.Module): An ``EncoderDecoder``.
        size (tuple[int, int]): Input height and width.
        device (torch.device): Where the model is.

    Returns:
        float: FLOPs of ``encode_decode`` (logits resized to the input
        size; auxiliary heads do not run at test time).
    """
    return flop_total(
        _Logits(model, size), torch.rand(1, 3, *size, device=device))


def count_flops(model: nn.Module, size: Tuple[int, int],
                device: torch.device) -> Tuple[float, float]:
    """FLOPs (mmengine's multiply-accumulates) of one image.

    Args:
        model (nn.Module): An ``EncoderDecoder``.
        size (tuple[int, int]): Input height and width.
        device (torch.device): Where the model is.

    Returns:
        tuple[float, float]: FLOPs of the whole model (logits resized to
        the input size) and of its backbone.
    """
    x = torch.rand(1, 3, *size, device=device)
    return (flop_total(_Logits(model, size), x),
            flop_total(model.backbone, x))
