"""Global Convolutional Network module (Fig. 2B of the paper)."""
from typing import Optional, Union

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptConfigType
from torch import Tensor, nn

from .arg_checks import check_kernel_size


@MODELS.register_module()
class GCN(BaseModule):
    """Global Convolutional Network module.

    Two parallel branches of separable large kernels, summed::

        x -> conv k x 1 -> conv 1 x k --+
                                         +--> out
        x -> conv 1 x k -> conv k x 1 --+

    The first conv of each branch maps ``in_channels`` to ``out_channels``
    (the number of classes in the paper), the second keeps ``out_channels``.
    There is no normalisation and no nonlinearity anywhere, so the module is
    linear (affine when ``bias=True``). Padding is ``(k - 1) // 2`` along the
    long side, so the output has the input's spatial size.

    With ``C = in_channels`` and ``n = out_channels`` it has
    ``2 * k * n * (C + n)`` weights, plus ``4 * n`` biases when ``bias=True``.

    Args:
        in_channels (int): Number of input channels.
        out_channels (int): Number of output channels (classes).
        kernel_size (int): Length ``k`` of the separable kernels. Odd, >= 3.
        bias (bool): Whether the four convolutions have a bias. The paper
            counts weights only and does not say. Defaults to True.
        conv_cfg (dict, optional): Config of the conv layers.
            Defaults to None (``nn.Conv2d``).
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None.

    Example:
        >>> import torch
        >>> gcn = GCN(2048, 21, kernel_size=15)
        >>> gcn(torch.rand(1, 2048, 16, 16)).shape
        torch.Size([1, 21, 16, 16])
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int = 15,
                 bias: bool = True,
                 conv_cfg: OptConfigType = None,
                 init_cfg: Optional[Union[ConfigType, list]] = None) -> None:
        super().__init__(init_cfg)
        k = check_kernel_size(kernel_size)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = k

        def linear_conv(cin: int, kh: int, kw: int) -> ConvModule:
            return ConvModule(
                cin,
                out_channels, (kh, kw),
                padding=((kh - 1) // 2, (kw - 1) // 2),
                bias=bias,
                conv_cfg=conv_cfg,
                norm_cfg=None,
                act_cfg=None)

        # left branch: k x 1 then 1 x k; right branch: 1 x k then k x 1
        self.conv_l1 = linear_conv(in_channels, k, 1)
        self.conv_l2 = linear_conv(out_channels, 1, k)
        self.conv_r1 = linear_conv(in_channels, 1, k)
        self.conv_r2 = linear_conv(out_channels, k, 1)

    def forward(self, x: Tensor) -> Tensor:
        """Forward function.

        Args:
            x (Tensor): Input of shape (N, in_channels, H, W).

        Returns:
            Tensor: Output of shape (N, out_channels, H, W).
        """
        left = self.conv_l2(self.conv_l1(x))
        if not (torch.is_grad_enabled() and self._plain_convs()):
            return left + self.conv_r2(self.conv_r1(x))
        # Training: the right branch (1 x k, then k x 1) is computed as the
        # left branch's shape (k x 1, then 1 x k) on the map with H and W
        # swapped, with the same weights transposed. Same maths; on CPU the
        # backward of a 1 x k conv is several times slower than that of a
        # k x 1 conv, which costs more than the one transposed copy.
        memory_format = (torch.channels_last
                         if x.is_contiguous(memory_format=torch.channels_last)
                         and not x.is_contiguous() else torch.contiguous_format)
        swapped = x.transpose(2, 3).contiguous(memory_format=memory_format)
        right = _swapped_conv(self.conv_r2,
                              _swapped_conv(self.conv_r1, swapped))
        return left + right.transpose(2, 3)

    def _plain_convs(self) -> bool:
        """Whether the right branch is two plain ``nn.Conv2d``s (not a
        ``conv_cfg`` layer whose forward the swapped form would bypass)."""
        return all(
            type(m.conv) is nn.Conv2d for m in (self.conv_r1, self.conv_r2))


def _swapped_conv(module: ConvModule, x: Tensor) -> Tensor:
    """``module``'s convolution on a map whose H and W are swapped.

    Args:
        module (ConvModule): A conv without norm or activation.
        x (Tensor): The input with H and W swapped.

    Returns:
        Tensor: ``module(x.transpose(2, 3)).transpose(2, 3)``.
    """
    conv = module.conv
    return F.conv2d(x, conv.weight.transpose(2, 3), conv.bias,
                    conv.stride[::-1], conv.padding[::-1],
                    conv.dilation[::-1], conv.groups)
