"""Global Convolutional Network module (Fig. 2B of the paper)."""
from typing import Optional, Union

from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptConfigType
from torch import Tensor

from .arg_checks import check_kernel_size
from .gcn_fast_forms import fast_forward, has_fast_form


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
        """The two branches of Fig. 2B, summed.

        On CPU an equal, faster form of the same sum may compute it
        (:mod:`~mmseg_gcn.models.layers.gcn_fast_forms`: outputs and
        gradients equal within float tolerance, as tests check).

        Args:
            x (Tensor): Input of shape (N, in_channels, H, W).

        Returns:
            Tensor: Output of shape (N, out_channels, H, W).
        """
        if has_fast_form(self, x):
            return fast_forward(self, x)
        return self.paper_forward(x)

    def paper_forward(self, x: Tensor) -> Tensor:
        """The paper's form: ``k x 1 -> 1 x k`` plus ``1 x k -> k x 1``.

        Args:
            x (Tensor): Input of shape (N, in_channels, H, W).

        Returns:
            Tensor: Output of shape (N, out_channels, H, W).
        """
        return self.conv_l2(self.conv_l1(x)) + self.conv_r2(self.conv_r1(x))
