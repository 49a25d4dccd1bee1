"""ResNet-GCN backbone (Fig. 5B and Table 11 of the paper)."""
from typing import List, Optional, Sequence, Tuple, Union

import torch.nn as nn
import torch.utils.checkpoint as cp
from mmcv.cnn import build_conv_layer, build_norm_layer
from mmengine.model import BaseModule
from mmengine.utils.dl_utils.parrots_wrapper import _BatchNorm
from mmseg.models.backbones.resnet import Bottleneck
from mmseg.models.utils import ResLayer
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptConfigType
from torch import Tensor

from ..layers import check_kernel_size


class GCNBottleneck(BaseModule):
    """Bottleneck whose 1x1 + 3x3 convs are replaced by a GCN-style pair of
    separable large-kernel branches (Fig. 5B).

    ::

        x -> [1 x k -> k x 1] --+
                                 + -> 1x1 conv -> BN --+ -> ReLU
        x -> [k x 1 -> 1 x k] --+                      |
        x -> identity / projection shortcut ----------+

    where every conv of a branch is followed by BN and ReLU.

    Both branches have width ``m' = gcn_width``; the 1x1 conv maps ``m'`` to
    ``planes * expansion`` output channels, as the last 1x1 of a ResNet
    bottleneck.

    Stride (the paper does not say where it goes): with ``style='pytorch'``
    (default, like mmseg's :class:`Bottleneck`, which strides its 3x3 conv)
    the *second* conv of each branch has the stride, so the first conv sees
    every input row and column before any is dropped; this also keeps the
    network's FLOPs at ResNet-50's (the paper: 3.7 GFLOPs for both). With
    ``style='caffe'`` the first conv of each branch has the stride.

    Args:
        inplanes (int): Input channels.
        planes (int): Output channels are ``planes * 4``.
        kernel_size (int): Length ``k`` of the separable kernels (odd, >= 3).
        gcn_width (int): Branch width ``m'``.
        stride (int): Stride of the block. Defaults to 1.
        dilation (int): Dilation of the k-long convs. Defaults to 1.
        downsample (nn.Module, optional): Projection shortcut.
            Defaults to None (identity).
        style (str): ``'pytorch'`` or ``'caffe'``. Defaults to 'pytorch'.
        with_cp (bool): Use gradient checkpointing. Defaults to False.
        conv_cfg (dict, optional): Config of conv layers. Defaults to None.
        norm_cfg (dict): Config of norm layers.
            Defaults to ``dict(type='BN')``.
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to None.
    """

    expansion = 4

    def __init__(self,
                 inplanes: int,
                 planes: int,
                 kernel_size: int,
                 gcn_width: int,
                 stride: int = 1,
                 dilation: int = 1,
                 downsample: Optional[nn.Module] = None,
                 style: str = 'pytorch',
                 with_cp: bool = False,
                 conv_cfg: OptConfigType = None,
                 norm_cfg: ConfigType = dict(type='BN'),
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(init_cfg)
        if style not in ('pytorch', 'caffe'):
            raise ValueError(
                f"style must be 'pytorch' or 'caffe', got {style!r}.")
        k = check_kernel_size(kernel_size)
        self.inplanes = inplanes
        self.planes = planes
        self.kernel_size = k
        self.gcn_width = gcn_width
        self.stride = stride
        self.dilation = dilation
        self.style = style
        self.with_cp = with_cp
        if style == 'pytorch':
            first_stride, second_stride = 1, stride
        else:
            first_stride, second_stride = stride, 1
        pad = dilation * (k - 1) // 2

        def conv(name: str, cin: int, horizontal: bool, stride: int) -> None:
            """Adds ``conv{name}`` (1 x k if horizontal else k x 1) and
            ``norm{name}``."""
            if horizontal:
                ksize, padding, dil = (1, k), (0, pad), (1, dilation)
            else:
                ksize, padding, dil = (k, 1), (pad, 0), (dilation, 1)
            self.add_module(
                f'conv{name}',
                build_conv_layer(
                    conv_cfg,
                    cin,
                    gcn_width,
                    kernel_size=ksize,
                    stride=stride,
                    padding=padding,
                    dilation=dil,
                    bias=False))
            norm_name, norm = build_norm_layer(
                norm_cfg, gcn_width, postfix=name)
            setattr(self, f'norm{name}_name', norm_name)
            self.add_module(norm_name, norm)

        # branch 1: 1 x k -> k x 1; branch 2: k x 1 -> 1 x k
        conv('1a', inplanes, True, first_stride)
        conv('1b', gcn_width, False, second_stride)
        conv('2a', inplanes, False, first_stride)
        conv('2b', gcn_width, True, second_stride)
        self.conv3 = build_conv_layer(
            conv_cfg, gcn_width, planes * self.expansion, 1, bias=False)
        self.norm3_name, norm3 = build_norm_layer(
            norm_cfg, planes * self.expansion, postfix=3)
        self.add_module(self.norm3_name, norm3)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    @property
    def norm3(self) -> nn.Module:
        """nn.Module: the norm layer after the 1x1 conv (zero-initialised
        for ``zero_init_residual``)."""
        return getattr(self, self.norm3_name)

    def _conv_norm_relu(self, name: str, x: Tensor) -> Tensor:
        conv = getattr(self, f'conv{name}')
        norm = getattr(self, getattr(self, f'norm{name}_name'))
        return self.relu(norm(conv(x)))

    def forward(self, x: Tensor) -> Tensor:
        """Forward function."""

        def _inner_forward(x: Tensor) -> Tensor:
            out = (self._conv_norm_relu('1b', self._conv_norm_relu('1a', x)) +
                   self._conv_norm_relu('2b', self._conv_norm_relu('2a', x)))
            out = self.norm3(self.conv3(out))
            identity = x if self.downsample is None else self.downsample(x)
            return out + identity

        if self.with_cp and x.requires_grad:
            out = cp.checkpoint(_inner_forward, x, use_reentrant=False)
        else:
            out = _inner_forward(x)
        return self.relu(out)


@MODELS.register_module()
class ResNetGCN(BaseModule):
    """ResNet-50-GCN backbone of `Large Kernel Matters
    <https://arxiv.org/abs/1703.02719>`_ (Table 11).

    ResNet-50 whose res-4 and res-5 bottlenecks are :class:`GCNBottleneck`
    blocks: res-4 with ``k = 5, m' = 85`` (6 blocks), res-5 with
    ``k = 7, m' = 128`` (3 blocks). The stem (7x7 conv, max-pool), res-2 and
    res-3 are ResNet-50's (mmseg's :class:`Bottleneck`, 3 and 4 blocks), with
    the same parameter names, so ResNet-50 weights load into them. Outputs
    have ResNet-50's channels (256, 512, 1024, 2048) and strides
    (4, 8, 16, 32).

    Per-stage settings are arguments: ``gcn_kernel_sizes[i]`` and
    ``gcn_widths[i]`` select the GCN bottleneck for stage ``i``; ``None`` in
    both gives a plain bottleneck, so deeper variants can be configured
    (e.g. ``stage_blocks=(3, 4, 23, 3)``).

    Args:
        in_channels (int): Input image channels. Defaults to 3.
        stem_channels (int): Stem channels. Defaults to 64.
        base_channels (int): Stage ``i`` outputs
            ``base_channels * 2**i * 4`` channels. Defaults to 64.
        stage_blocks (Sequence[int]): Blocks per stage (1 to 4 stages).
            Defaults to (3, 4, 6, 3).
        gcn_kernel_sizes (Sequence[int | None]): GCN kernel size per stage,
            None for a plain bottleneck. Defaults to (None, None, 5, 7).
        gcn_widths (Sequence[int | None]): GCN branch width ``m'`` per stage,
            None for a plain bottleneck. Defaults to (None, None, 85, 128).
        strides (Sequence[int]): Stride of the first block of each stage.
            Defaults to (1, 2, 2, 2).
        dilations (Sequence[int]): Dilation of each stage.
            Defaults to (1, 1, 1, 1).
        out_indices (Sequence[int]): Stages whose outputs are returned.
            Defaults to (0, 1, 2, 3).
        style (str): ``'pytorch'`` (stride on the 3x3 conv / the second conv
            of each GCN branch) or ``'caffe'`` (on the first conv).
            Defaults to 'pytorch'.
        frozen_stages (int): Stages to freeze (parameters and norm
            statistics); 0 freezes the stem only, -1 nothing. Defaults to -1.
        conv_cfg (dict, optional): Config of conv layers. Defaults to None.
        norm_cfg (dict): Config of norm layers.
            Defaults to ``dict(type='BN', requires_grad=True)``.
        norm_eval (bool): Keep norm layers in eval mode during training.
            Defaults to False.
        with_cp (bool): Use gradient checkpointing. Defaults to False.
        zero_init_residual (bool): Zero-initialise the last norm of every
            block, so that blocks start as the identity. Defaults to True.
        init_cfg (dict or list[dict], optional): Initialisation config, e.g.
            ``dict(type='Pretrained', checkpoint=..., prefix='backbone.')``.
            Defaults to None: Kaiming for convs, 1 for norms.

    Example:
        >>> import torch
        >>> self = ResNetGCN().eval()
        >>> for out in self(torch.rand(1, 3, 64, 64)):
        ...     print(tuple(out.shape))
        (1, 256, 16, 16)
        (1, 512, 8, 8)
        (1, 1024, 4, 4)
        (1, 2048, 2, 2)
    """

    def __init__(self,
                 in_channels: int = 3,
                 stem_channels: int = 64,
                 base_channels: int = 64,
                 stage_blocks: Sequence[int] = (3, 4, 6, 3),
                 gcn_kernel_sizes: Sequence[Optional[int]] = (None, None, 5,
                                                              7),
                 gcn_widths: Sequence[Optional[int]] = (None, None, 85, 128),
                 strides: Sequence[int] = (1, 2, 2, 2),
                 dilations: Sequence[int] = (1, 1, 1, 1),
                 out_indices: Sequence[int] = (0, 1, 2, 3),
                 style: str = 'pytorch',
                 frozen_stages: int = -1,
                 conv_cfg: OptConfigType = None,
                 norm_cfg: ConfigType = dict(type='BN', requires_grad=True),
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 zero_init_residual: bool = True,
                 init_cfg: Optional[Union[ConfigType,
                                          List[ConfigType]]] = None) -> None:
        super().__init__(init_cfg)
        stage_blocks = tuple(stage_blocks)
        num_stages = len(stage_blocks)
        self._check_args(stage_blocks, gcn_kernel_sizes, gcn_widths, strides,
                         dilations, out_indices, style, frozen_stages)
        block_init_cfg = None
        if init_cfg is None:
            self.init_cfg = [
                dict(type='Kaiming', layer='Conv2d'),
                dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])
            ]
            if zero_init_residual:
                block_init_cfg = dict(
                    type='Constant', val=0, override=dict(name='norm3'))

        self.stage_blocks = stage_blocks
        self.num_stages = num_stages
        self.gcn_kernel_sizes = tuple(gcn_kernel_sizes)
        self.gcn_widths = tuple(gcn_widths)
        self.strides = tuple(strides)
        self.dilations = tuple(dilations)
        self.out_indices = tuple(out_indices)
        self.style = style
        self.frozen_stages = frozen_stages
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.norm_eval = norm_eval
        self.with_cp = with_cp
        self.zero_init_residual = zero_init_residual

        self._make_stem_layer(in_channels, stem_channels)
        inplanes = stem_channels
        self.res_layers = []
        for i, num_blocks in enumerate(stage_blocks):
            planes = base_channels * 2**i
            block_kwargs = dict(style=style, with_cp=with_cp)
            if self.gcn_kernel_sizes[i] is None:
                block = Bottleneck
            else:
                block = GCNBottleneck
                block_kwargs.update(
                    kernel_size=self.gcn_kernel_sizes[i],
                    gcn_width=self.gcn_widths[i])
            res_layer = ResLayer(
                block=block,
                inplanes=inplanes,
                planes=planes,
                num_blocks=num_blocks,
                stride=self.strides[i],
                dilation=self.dilations[i],
                conv_cfg=conv_cfg,
                norm_cfg=norm_cfg,
                init_cfg=block_init_cfg,
                **block_kwargs)
            inplanes = planes * block.expansion
            layer_name = f'layer{i + 1}'
            self.add_module(layer_name, res_layer)
            self.res_layers.append(layer_name)
        self.feat_dim = inplanes
        self._freeze_stages()

    @staticmethod
    def _check_args(stage_blocks: tuple, gcn_kernel_sizes: Sequence,
                    gcn_widths: Sequence, strides: Sequence,
                    dilations: Sequence, out_indices: Sequence, style: str,
                    frozen_stages: int) -> None:
        """Raises a ValueError that names the first bad argument."""
        n = len(stage_blocks)
        if not 1 <= n <= 4 or any(
                not isinstance(b, int) or b < 1 for b in stage_blocks):
            raise ValueError(
                f'stage_blocks must list 1 to 4 positive block counts, got '
                f'{stage_blocks!r}; ResNet-50 is (3, 4, 6, 3).')
        for name, value in (('gcn_kernel_sizes', gcn_kernel_sizes),
                            ('gcn_widths', gcn_widths), ('strides', strides),
                            ('dilations', dilations)):
            if len(value) != n:
                raise ValueError(
                    f'{name} has {len(value)} entries but stage_blocks has '
                    f'{n}; give one entry per stage.')
        for i, (k, m) in enumerate(zip(gcn_kernel_sizes, gcn_widths)):
            if (k is None) != (m is None):
                raise ValueError(
                    f'stage {i}: gcn_kernel_sizes[{i}]={k!r} but '
                    f'gcn_widths[{i}]={m!r}; set both (a GCN bottleneck) or '
                    f'neither (None: a plain bottleneck).')
            if k is not None:
                check_kernel_size(k, name=f'gcn_kernel_sizes[{i}]')
                if isinstance(m, bool) or not isinstance(m, int) or m < 1:
                    raise ValueError(
                        f'gcn_widths[{i}] must be a positive integer (the '
                        f'branch width m\'), got {m!r}.')
        if any(not 0 <= i < n for i in out_indices) or not out_indices:
            raise ValueError(
                f'out_indices must be stage indices in [0, {n - 1}], got '
                f'{tuple(out_indices)!r}.')
        if style not in ('pytorch', 'caffe'):
            raise ValueError(
                f"style must be 'pytorch' or 'caffe', got {style!r}.")
        if not -1 <= frozen_stages <= n:
            raise ValueError(
                f'frozen_stages must be in [-1, {n}] (-1: nothing, 0: the '
                f'stem, i: the stem and stages 1..i), got {frozen_stages!r}.')

    @property
    def norm1(self) -> nn.Module:
        """nn.Module: the stem's norm layer."""
        return getattr(self, self.norm1_name)

    def _make_stem_layer(self, in_channels: int, stem_channels: int) -> None:
        """ResNet-50's stem: 7x7 conv (stride 2), norm, ReLU, 3x3 max-pool."""
        self.conv1 = build_conv_layer(
            self.conv_cfg,
            in_channels,
            stem_channels,
            kernel_size=7,
            stride=2,
            padding=3,
            bias=False)
        self.norm1_name, norm1 = build_norm_layer(
            self.norm_cfg, stem_channels, postfix=1)
        self.add_module(self.norm1_name, norm1)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

    def _freeze_stages(self) -> None:
        """Freezes the parameters and norm statistics of frozen stages."""
        if self.frozen_stages >= 0:
            self.norm1.eval()
            for m in (self.conv1, self.norm1):
                for param in m.parameters():
                    param.requires_grad = False
        for i in range(1, self.frozen_stages + 1):
            m = getattr(self, f'layer{i}')
            m.eval()
            for param in m.parameters():
                param.requires_grad = False

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """Forward function.

        Args:
            x (Tensor): Images of shape (N, C, H, W).

        Returns:
            tuple[Tensor]: Outputs of the stages in ``out_indices``.
        """
        x = self.maxpool(self.relu(self.norm1(self.conv1(x))))
        outs = []
        for i, layer_name in enumerate(self.res_layers):
            x = getattr(self, layer_name)(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def train(self, mode: bool = True) -> 'ResNetGCN':
        """Sets training mode, keeping frozen stages (and all norms when
        ``norm_eval``) in eval mode."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self


try:  # also usable as an mmpretrain backbone (e.g. ImageNet pretraining)
    from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS
except ImportError:  # pragma: no cover - mmpretrain is optional
    MMPRETRAIN_MODELS = None
else:
    MMPRETRAIN_MODELS.register_module(module=ResNetGCN)
