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

        The maths is always the two branches above. How they are computed
        depends on the case, for speed on CPU (outputs and gradients are
        equal within float tolerance; tests compare them):

        - training (gradients on): the right branch runs on the H/W-swapped
          map, see :meth:`_forward_training`;
        - inference on a channels-last map: the first conv of each branch is
          one matrix product with all k taps at once, see
          :func:`_taps_conv`;
        - otherwise (NCHW inference, a trace for export, or ``conv_cfg``
          layers): the four convs as written.

        Args:
            x (Tensor): Input of shape (N, in_channels, H, W).

        Returns:
            Tensor: Output of shape (N, out_channels, H, W).
        """
        if is_tracing() or not self._plain_convs():
            return self._forward_direct(x)
        if torch.is_grad_enabled():
            return self._forward_training(x)
        if _is_channels_last(x):
            return (self.conv_l2(_taps_conv(self.conv_l1.conv, x, dim=2)) +
                    self.conv_r2(_taps_conv(self.conv_r1.conv, x, dim=3)))
        return self._forward_direct(x)

    def _forward_direct(self, x: Tensor) -> Tensor:
        return self.conv_l2(self.conv_l1(x)) + self.conv_r2(self.conv_r1(x))

    def _forward_training(self, x: Tensor) -> Tensor:
        """The right branch (1 x k, then k x 1) computed as the left
        branch's shape (k x 1, then 1 x k) on the map with H and W swapped,
        with the same weights transposed: on CPU the backward of a 1 x k conv
        is several times slower than that of a k x 1 conv, which costs more
        than the one transposed copy."""
        left = self.conv_l2(self.conv_l1(x))
        memory_format = (torch.channels_last if _is_channels_last(x) else
                         torch.contiguous_format)
        swapped = x.transpose(2, 3).contiguous(memory_format=memory_format)
        right = _swapped_conv(self.conv_r2,
                              _swapped_conv(self.conv_r1, swapped))
        return left + right.transpose(2, 3)

    def _plain_convs(self) -> bool:
        """Whether the four convs are plain ``nn.Conv2d``s (not ``conv_cfg``
        layers whose forward the faster forms would bypass)."""
        return all(
            type(m.conv) is nn.Conv2d
            for m in (self.conv_l1, self.conv_l2, self.conv_r1, self.conv_r2))


def is_tracing() -> bool:
    """Whether the forward is being traced or exported rather than run."""
    return torch.jit.is_tracing() or torch.compiler.is_compiling()


def _is_channels_last(x: Tensor) -> bool:
    return (x.is_contiguous(memory_format=torch.channels_last)
            and not x.is_contiguous())


def _taps_conv(conv: nn.Conv2d, x: Tensor, dim: int) -> Tensor:
    """A k x 1 (``dim=2``) or 1 x k (``dim=3``) conv with 'same' padding,
    computed as one 1x1 conv to ``k * out`` channels (every tap's weights at
    once: a large, efficient matrix product instead of a conv with ~21
    outputs), then the sum over taps of the maps, each shifted by its tap.

    The shifted maps are read through one strided view, without copies; that
    view's backward is slow, so this is for inference only.

    Args:
        conv (nn.Conv2d): The conv (stride 1, no dilation, one group).
        x (Tensor): Channels-last input of shape (N, C, H, W).
        dim (int): 2 for a k x 1 kernel (along H), 3 for 1 x k (along W).

    Returns:
        Tensor: ``conv(x)``, channels-last.
    """
    n = conv.out_channels
    k = conv.kernel_size[dim - 2]
    pad = (k - 1) // 2
    taps = conv.weight.flatten(2)  # (n, C, k)
    stacked = taps.permute(2, 0, 1).reshape(k * n, -1, 1, 1)
    # padded along dim: (N, k * n, H + 2 pad, W) or (N, k * n, H, W + 2 pad)
    z = F.conv2d(x, stacked, padding=(pad, 0) if dim == 2 else (0, pad))
    z = z.permute(0, 2, 3, 1).contiguous()  # (N, H', W', k * n), a view
    batch, h, w, _ = z.shape
    h, w = (h - 2 * pad, w) if dim == 2 else (h, w - 2 * pad)
    s_n, s_h, s_w, _ = z.stride()
    # tap t of output o at (y, x) is z[y + t, x, t * n + o] (dim 2)
    step = (s_h if dim == 2 else s_w) + n
    out = z.as_strided((batch, h, w, k, n), (s_n, s_h, s_w, step, 1)).sum(3)
    if conv.bias is not None:
        out = out + conv.bias
    return out.permute(0, 3, 1, 2)


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
