"""Per-level pixel classifiers compared in the paper's ablations (Fig. 4).

``'gcn'`` is the paper's module; the others are its baselines:

- ``'1x1'``: a single 1x1 conv (the usual FCN classifier, Table 1 "base").
- ``'conv'``: a single k x k conv (Table 3 "Conv").
- ``'stack'``: (k - 1) / 2 linear 3x3 convs, as many as it takes to reach a
  k x k receptive field (Tables 3-4 "Stack").
"""
from typing import Optional

from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmseg.utils import OptConfigType
from torch import Tensor, nn

from .arg_checks import check_kernel_size, check_one_of
from .gcn import GCN

CLASSIFIER_TYPES = ('gcn', 'conv', 'stack', '1x1')


def check_classifier(classifier: str) -> str:
    """Checks that ``classifier`` names one of :data:`CLASSIFIER_TYPES`."""
    return check_one_of(
        classifier, CLASSIFIER_TYPES, 'classifier',
        "use 'gcn' for the paper's module or a baseline: 'conv' (one k x k "
        "conv), 'stack' (linear 3x3 stack) or '1x1'.")


def _linear_conv(in_channels: int, out_channels: int, kernel_size: int,
                 bias: bool, conv_cfg: OptConfigType) -> ConvModule:
    """A conv with 'same' padding and neither norm nor activation."""
    return ConvModule(
        in_channels,
        out_channels,
        kernel_size,
        padding=(kernel_size - 1) // 2,
        bias=bias,
        conv_cfg=conv_cfg,
        norm_cfg=None,
        act_cfg=None)


class StackClassifier(BaseModule):
    """A stack of ``(k - 1) / 2`` linear 3x3 convs (the paper's "Stack").

    Channels go ``in_channels -> m -> ... -> m -> out_channels`` with
    ``m = stack_channels``. There is no nonlinearity in between, as in the
    paper, so the stack is a (low-rank when ``m`` is small) factorisation of
    a k x k conv with the same receptive field. With one layer (k = 3) it is
    a single 3x3 conv ``in_channels -> out_channels``.

    Args:
        in_channels (int): Number of input channels.
        out_channels (int): Number of output channels (classes).
        kernel_size (int): Receptive field ``k`` to reach. Odd, >= 3.
        stack_channels (int, optional): Width ``m`` of the intermediate
            layers. The paper varies it (Table 4: 2048, 1024, 210).
            Defaults to None, meaning ``in_channels``.
        bias (bool): Whether the convs have a bias. Defaults to True.
        conv_cfg (dict, optional): Config of the conv layers. Defaults to None.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int,
                 stack_channels: Optional[int] = None,
                 bias: bool = True,
                 conv_cfg: OptConfigType = None,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(init_cfg)
        num_layers = (check_kernel_size(kernel_size) - 1) // 2
        if stack_channels is None:
            stack_channels = in_channels
        if (isinstance(stack_channels, bool)
                or not isinstance(stack_channels, int) or stack_channels < 1):
            raise ValueError(
                f'stack_channels must be a positive integer (the width m of '
                f'the stacked 3x3 convs) or None for in_channels, got '
                f'{stack_channels!r}.')
        self.stack_channels = stack_channels
        widths = [in_channels] + [stack_channels] * (num_layers - 1)
        widths.append(out_channels)
        self.convs = nn.Sequential(*[
            _linear_conv(widths[i], widths[i + 1], 3, bias, conv_cfg)
            for i in range(num_layers)
        ])

    def forward(self, x: Tensor) -> Tensor:
        """Forward function.

        Args:
            x (Tensor): Input of shape (N, in_channels, H, W).

        Returns:
            Tensor: Output of shape (N, out_channels, H, W).
        """
        return self.convs(x)


def build_classifier(classifier: str,
                     in_channels: int,
                     out_channels: int,
                     kernel_size: int = 15,
                     bias: bool = True,
                     stack_channels: Optional[int] = None,
                     conv_cfg: OptConfigType = None) -> nn.Module:
    """Builds one per-level classifier of the given type.

    Args:
        classifier (str): One of ``'gcn'``, ``'conv'``, ``'stack'``, ``'1x1'``.
        in_channels (int): Number of input channels.
        out_channels (int): Number of output channels (classes).
        kernel_size (int): Kernel size ``k`` (ignored by ``'1x1'``).
        bias (bool): Whether the convs have a bias. Defaults to True.
        stack_channels (int, optional): Width of the ``'stack'`` classifier.
            Defaults to None (``in_channels``).
        conv_cfg (dict, optional): Config of the conv layers. Defaults to None.

    Returns:
        nn.Module: A module mapping (N, in_channels, H, W) to
        (N, out_channels, H, W).

    Raises:
        ValueError: If ``classifier`` is unknown or ``kernel_size`` invalid.
    """
    check_classifier(classifier)
    if classifier == 'gcn':
        return GCN(in_channels, out_channels, kernel_size, bias=bias,
                   conv_cfg=conv_cfg)
    if classifier == 'conv':
        return _linear_conv(in_channels, out_channels,
                            check_kernel_size(kernel_size), bias, conv_cfg)
    if classifier == 'stack':
        return StackClassifier(in_channels, out_channels, kernel_size,
                               stack_channels=stack_channels, bias=bias,
                               conv_cfg=conv_cfg)
    return _linear_conv(in_channels, out_channels, 1, bias, conv_cfg)
