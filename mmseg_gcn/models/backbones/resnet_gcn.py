"""ResNet-GCN backbone (Fig. 5B and Table 11 of the paper)."""
import re
from typing import Optional, Sequence

import torch.nn as nn
import torch.utils.checkpoint as cp
from mmcv.cnn import ConvModule, build_conv_layer, build_norm_layer
from mmengine.model import BaseModule
from mmseg.models.backbones.resnet import Bottleneck, ResNet
from mmseg.models.utils import ResLayer
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptConfigType
from torch import Tensor

from ..layers import check_kernel_size


class GCNBottleneck(BaseModule):
    """Bottleneck whose 1x1 + 3x3 convs are replaced by a GCN-style pair of
    separable large-kernel branches (Fig. 5B).

    ::

        x -> branch1: [1 x k -> k x 1] --+
                                          + -> conv3 (1x1) -> norm3 --+ -> ReLU
        x -> branch2: [k x 1 -> 1 x k] --+                            |
        x -> identity / downsample (projection shortcut) ------------+

    where every conv of a branch is a :class:`ConvModule` (conv, BN, ReLU).

    Both branches have width ``m' = gcn_width``; the 1x1 ``conv3`` maps ``m'``
    to ``planes * expansion`` output channels, as the last 1x1 of a ResNet
    bottleneck (and named like it, so ``zero_init_residual`` finds ``norm3``).

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
        self.inplanes = inplanes
        self.planes = planes
        self.kernel_size = check_kernel_size(kernel_size)
        self.gcn_width = gcn_width
        self.stride = stride
        self.dilation = dilation
        self.style = style
        self.with_cp = with_cp
        if style == 'pytorch':
            first_stride, second_stride = 1, stride
        else:
            first_stride, second_stride = stride, 1

        def strip(in_channels: int, horizontal: bool,
                  stride: int) -> ConvModule:
            """A 1 x k (horizontal) or k x 1 conv with 'same' padding, BN
            and ReLU."""
            k, pad = self.kernel_size, dilation * (self.kernel_size - 1) // 2
            return ConvModule(
                in_channels,
                gcn_width,
                kernel_size=(1, k) if horizontal else (k, 1),
                stride=stride,
                padding=(0, pad) if horizontal else (pad, 0),
                dilation=(1, dilation) if horizontal else (dilation, 1),
                conv_cfg=conv_cfg,
                norm_cfg=norm_cfg)

        self.branch1 = nn.Sequential(
            strip(inplanes, True, first_stride),  # 1 x k
            strip(gcn_width, False, second_stride))  # k x 1
        self.branch2 = nn.Sequential(
            strip(inplanes, False, first_stride),  # k x 1
            strip(gcn_width, True, second_stride))  # 1 x k
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

    def forward(self, x: Tensor) -> Tensor:
        """Forward function."""

        def _inner_forward(x: Tensor) -> Tensor:
            out = self.norm3(self.conv3(self.branch1(x) + self.branch2(x)))
            identity = x if self.downsample is None else self.downsample(x)
            return out + identity

        if self.with_cp and x.requires_grad:
            out = cp.checkpoint(_inner_forward, x, use_reentrant=False)
        else:
            out = _inner_forward(x)
        return self.relu(out)

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args,
                              **kwargs) -> None:
        """Renames the keys of checkpoints written before the branches were
        :class:`ConvModule` s, so that they still load: ``conv1a``/``bn1a``,
        ``conv1b``/``bn1b``, ``conv2a``/``bn2a``, ``conv2b``/``bn2b`` are now
        ``branch1.0.conv``/``branch1.0.bn`` ... ``branch2.1.conv``/
        ``branch2.1.bn``."""
        norm = self.branch1[0].norm_name
        old_key = re.compile(
            rf'{re.escape(prefix)}(conv|{norm})([12])([ab])\.(.+)')
        for key in list(state_dict):
            match = old_key.fullmatch(key)
            if match:
                layer, branch, position, rest = match.groups()
                position = 'ab'.index(position)
                new_key = f'{prefix}branch{branch}.{position}.{layer}.{rest}'
                state_dict[new_key] = state_dict.pop(key)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


@MODELS.register_module()
class ResNetGCN(ResNet):
    """ResNet-50-GCN backbone of `Large Kernel Matters
    <https://arxiv.org/abs/1703.02719>`_ (Table 11).

    mmseg's :class:`ResNet` whose res-4 and res-5 bottlenecks are
    :class:`GCNBottleneck` blocks: res-4 with ``k = 5, m' = 85`` (6 blocks),
    res-5 with ``k = 7, m' = 128`` (3 blocks). The stem (7x7 conv, max-pool),
    res-2 and res-3 are ResNet-50's (mmseg's :class:`Bottleneck`, 3 and 4
    blocks), with the same parameter names, so ResNet-50 weights load into
    them. Outputs have ResNet-50's channels (256, 512, 1024, 2048) and
    strides (4, 8, 16, 32).

    Per-stage settings are arguments: ``gcn_kernel_sizes[i]`` and
    ``gcn_widths[i]`` select the GCN bottleneck for stage ``i``; ``None`` in
    both gives a plain bottleneck, so deeper variants can be configured
    (e.g. ``stage_blocks=(3, 4, 23, 3)``). ``depth`` follows from
    ``stage_blocks`` (3 layers per bottleneck + 2: 50 for the default).

    Args:
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
        **kwargs: The other arguments of mmseg's :class:`ResNet`, with its
            defaults: ``in_channels``, ``stem_channels``, ``base_channels``,
            ``deep_stem``, ``avg_down``, ``conv_cfg``, ``norm_cfg``,
            ``norm_eval``, ``multi_grid``, ``contract_dilation``,
            ``with_cp``, ``zero_init_residual``, ``pretrained``,
            ``init_cfg``; ``dcn``/``stage_with_dcn`` and ``plugins`` apply to
            plain stages only.

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
                 stage_blocks: Sequence[int] = (3, 4, 6, 3),
                 gcn_kernel_sizes: Sequence[Optional[int]] = (None, None, 5,
                                                              7),
                 gcn_widths: Sequence[Optional[int]] = (None, None, 85, 128),
                 strides: Sequence[int] = (1, 2, 2, 2),
                 dilations: Sequence[int] = (1, 1, 1, 1),
                 out_indices: Sequence[int] = (0, 1, 2, 3),
                 style: str = 'pytorch',
                 frozen_stages: int = -1,
                 **kwargs) -> None:
        stage_blocks = tuple(stage_blocks)
        for name in ('depth', 'num_stages'):
            if name in kwargs:
                raise ValueError(
                    f'ResNetGCN takes no {name!r}: it follows from '
                    f'stage_blocks (ResNet-50: (3, 4, 6, 3)); remove {name!r}.')
        self._check_args(stage_blocks, gcn_kernel_sizes, gcn_widths, strides,
                         dilations, out_indices, style, frozen_stages)
        self.gcn_kernel_sizes = tuple(gcn_kernel_sizes)
        self.gcn_widths = tuple(gcn_widths)
        # ResNet reads the block type and blocks per stage from
        # arch_settings[depth]; here the blocks per stage are an argument.
        depth = 3 * sum(stage_blocks) + 2
        self.arch_settings = {depth: (Bottleneck, stage_blocks)}
        super().__init__(
            depth=depth,
            num_stages=len(stage_blocks),
            strides=tuple(strides),
            dilations=tuple(dilations),
            out_indices=tuple(out_indices),
            style=style,
            frozen_stages=frozen_stages,
            **kwargs)

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

    def make_res_layer(self, **kwargs) -> ResLayer:
        """Builds the next stage: GCN bottlenecks where the stage has a GCN
        kernel size, else ResNet's own.

        Args:
            **kwargs: ResNet's arguments of :class:`ResLayer` for the stage.

        Returns:
            ResLayer: The stage. ResNet builds the stages in order, appending
            each to ``res_layers``, so its index is ``len(res_layers)``.
        """
        stage = len(self.res_layers)
        if self.gcn_kernel_sizes[stage] is None:
            return ResLayer(**kwargs)
        dcn, plugins = kwargs.pop('dcn'), kwargs.pop('plugins')
        if dcn is not None or plugins:
            raise ValueError(
                f'stage {stage} is made of GCN bottlenecks, which take no dcn '
                f'or plugins; set stage_with_dcn[{stage}] and the plugins\' '
                f'stages[{stage}] to False.')
        kwargs['block'] = GCNBottleneck
        return ResLayer(
            kernel_size=self.gcn_kernel_sizes[stage],
            gcn_width=self.gcn_widths[stage],
            **kwargs)

    def train(self, mode: bool = True) -> 'ResNetGCN':
        """ResNet's ``train`` (frozen stages, and all norms when
        ``norm_eval``, stay in eval mode), returning the module as
        ``nn.Module.train`` does, so that ``model.eval()`` returns it too."""
        super().train(mode)
        return self


try:  # also usable as an mmpretrain backbone (e.g. ImageNet pretraining)
    from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS
except ImportError:  # pragma: no cover - mmpretrain is optional
    MMPRETRAIN_MODELS = None
else:
    MMPRETRAIN_MODELS.register_module(module=ResNetGCN)
