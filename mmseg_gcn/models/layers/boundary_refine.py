"""Boundary Refinement block (Fig. 2C of the paper)."""
from typing import Optional, Union

from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptConfigType
from torch import Tensor


@MODELS.register_module()
class BoundaryRefine(BaseModule):
    """Boundary Refinement: a residual block on score maps.

    ``out = x + conv3x3(ReLU(conv3x3(x)))``, both convs ``channels ->
    channels`` with padding 1. No normalisation and no activation after the
    sum: the block refines the score map it is given.

    It has ``2 * 9 * channels**2`` weights, plus ``2 * channels`` biases when
    ``bias=True``.

    Args:
        channels (int): Number of input and output channels (classes).
        bias (bool): Whether the two convolutions have a bias. The paper does
            not say. Defaults to True.
        conv_cfg (dict, optional): Config of the conv layers.
            Defaults to None (``nn.Conv2d``).
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None.

    Example:
        >>> import torch
        >>> br = BoundaryRefine(21)
        >>> br(torch.rand(1, 21, 32, 32)).shape
        torch.Size([1, 21, 32, 32])
    """

    def __init__(self,
                 channels: int,
                 bias: bool = True,
                 conv_cfg: OptConfigType = None,
                 init_cfg: Optional[Union[ConfigType, list]] = None) -> None:
        super().__init__(init_cfg)
        self.channels = channels
        self.conv1 = ConvModule(
            channels,
            channels,
            3,
            padding=1,
            bias=bias,
            conv_cfg=conv_cfg,
            norm_cfg=None,
            act_cfg=dict(type='ReLU'))
        self.conv2 = ConvModule(
            channels,
            channels,
            3,
            padding=1,
            bias=bias,
            conv_cfg=conv_cfg,
            norm_cfg=None,
            act_cfg=None)

    def forward(self, x: Tensor) -> Tensor:
        """Forward function.

        Args:
            x (Tensor): Score map of shape (N, channels, H, W).

        Returns:
            Tensor: Refined score map of the same shape.
        """
        return x + self.conv2(self.conv1(x))
