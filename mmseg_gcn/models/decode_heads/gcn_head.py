"""The GCN decoder of Fig. 2A: GCN + Boundary Refinement over a pyramid."""
import math
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, SampleList
from torch import Tensor

from ..layers import (BoundaryRefine, Upsample2x, build_classifier,
                      check_classifier, check_kernel_size, check_upsample_mode,
                      is_tracing)

Size = Tuple[int, int]


# BaseDecodeHead arguments that other heads use and this one cannot honour:
# the paper's head has no hidden width, no normalisation and no activation
# outside the BR blocks.
_FIXED_ARGUMENTS = {
    'channels': 'every score map has `num_classes` channels',
    'norm_cfg': 'the paper\'s head has no normalisation layer',
    'act_cfg': 'the only activation is the ReLU inside each BR block',
}


def _refuse_fixed_arguments(kwargs: dict) -> None:
    """Raises a ValueError for config keys copied from other heads that
    GCNHead would otherwise silently ignore."""
    for name, reason in _FIXED_ARGUMENTS.items():
        if name in kwargs:
            raise ValueError(
                f'GCNHead has no `{name}` argument ({reason}); remove '
                f'`{name}` from the decode_head config.')


def _as_tuple(value: Union[int, Sequence[int]]) -> tuple:
    return tuple(value) if isinstance(value, (list, tuple)) else (value, )


@MODELS.register_module()
class GCNHead(BaseDecodeHead):
    """Decoder of `Large Kernel Matters -- Improve Semantic Segmentation by
    Global Convolutional Network <https://arxiv.org/abs/1703.02719>`_.

    For the default four levels res-2..res-5 (strides 4, 8, 16, 32)::

        res-5: GCN -> BR ------------------------------> up x2 --+
        res-4: GCN -> BR --------------------------------------> + -> BR
               -> up x2 -> (+ res-3: GCN -> BR) -> BR
               -> up x2 -> (+ res-2: GCN -> BR) -> BR
               -> up x2 -> BR -> up x2 -> BR -> logits (input resolution)

    That is 9 Boundary Refinement (BR) blocks and 5 x2 upsamplings. Every map
    after the per-level classifiers has ``num_classes`` channels; the last BR
    produces the logits, so the head has no ``conv_seg`` (the one created by
    :class:`BaseDecodeHead` is deleted) and no parameter it does not use.

    In general, level ``i`` gets a classifier and a BR; the coarser map is
    upsampled by ``feature_strides[i + 1] / feature_strides[i]`` (x2 steps,
    none between levels at the same stride, as in a dilated backbone),
    added, and refined by a BR; after the finest level,
    ``log2(feature_strides[0])`` (x2 upsampling -> BR) steps reach stride 1.
    A single level (``in_index=(3, ), in_channels=(2048, ),
    feature_strides=(32, )``) is the paper's ablation head on res-5:
    classifier, then five x2 upsamplings to the input resolution.

    Other backbones. Any backbone whose outputs are NCHW maps at power-of-two
    strides fits: mmseg's dilated ResNet-50-d8 (``feature_strides=(4, 8, 8,
    8)``: res-3, res-4 and res-5 are summed without upsampling), MiT
    (SegFormer) and Swin (``(4, 8, 16, 32)``), mmpretrain backbones through
    ``mmpretrain.`` types. Give ``in_channels`` and ``feature_strides`` of
    the selected outputs; the package's tools check both against the
    backbone before a run (:mod:`mmseg_gcn.engine.head_channels`).

    Sizes. A stride-2 conv with 'same' padding gives ``ceil(H / 2)``, so the
    stride-``s`` map of a ResNet has ``ceil(H / s)`` rows and doubling it can
    overshoot the next finer map by one row/column (e.g. for 375 rows res-4
    has 24 and res-3 has 47, so the doubled res-4 map has 48). Every
    upsampled map is therefore cropped at the bottom/right to the finer map's
    size (both grids start at the top-left pixel, so cropping keeps them
    aligned, unlike a resize); if it is smaller (a backbone that floors), its
    last row/column is repeated instead. The output size: :meth:`loss` and
    :meth:`predict` pass the size the logits must have (the label size, and
    the size :meth:`predict_by_feat` resizes to, i.e. the network input
    size), so the last two upsamplings are cropped to ``ceil(H / 2)`` and
    ``H`` and the resize in ``loss_by_feat``/``predict_by_feat`` is a no-op.
    Called without ``out_size``, :meth:`forward` returns
    ``feature_strides[0]`` times the finest map, i.e. ``4 * ceil(H / 4)``:
    exactly ``H`` when the input is a multiple of 4.

    Choices the paper leaves open (all arguments):

    - upsampling: a learned depthwise transposed conv (kernel 4, stride 2,
      padding 1, ``num_classes -> num_classes``, ``groups=num_classes``, no
      bias) initialised to bilinear interpolation; ``upsample='bilinear'``
      uses fixed interpolation instead, ``deconv_depthwise=False`` a full
      deconv (bilinear on the diagonal);
    - biases: on in every GCN / BR / classifier conv (``bias=True``); the
      paper's parameter counts are weights only;
    - initialisation: ``Normal(std=0.01)`` for every ``Conv2d`` (the mmseg
      default for a classifier; it makes each BR start close to the
      identity); the deconvolutions stay bilinear;
    - dropout: none by default; with ``dropout_ratio > 0`` it is applied to
      each backbone feature before its classifier;
    - loss: softmax cross-entropy averaged over non-ignored pixels;
    - one ``kernel_size`` for every level (the paper gives one k per
      experiment: 15 on VOC, 25 on Cityscapes), or a per-level tuple.

    Args:
        in_channels (Sequence[int]): Channels of the selected backbone
            levels, finest first. Defaults to (256, 512, 1024, 2048).
        in_index (Sequence[int]): Indices of those levels in the backbone
            outputs. Defaults to (0, 1, 2, 3).
        num_classes (int): Number of classes (>= 1).
        feature_strides (Sequence[int]): Output stride of each selected
            level, finest first; powers of two, never decreasing.
            Defaults to (4, 8, 16, 32).
        kernel_size (int | Sequence[int]): Large kernel size ``k`` (odd,
            >= 3) for all levels, or one per level. Ignored by the
            ``'1x1'`` classifier. Defaults to 15.
        classifier (str): Per-level classifier: ``'gcn'`` (the paper),
            ``'conv'`` (one k x k conv), ``'stack'`` ((k - 1) / 2 linear 3x3
            convs of width ``stack_channels``) or ``'1x1'`` (the baseline).
            Defaults to 'gcn'.
        use_br (bool): Whether to use the BR blocks; ``False`` replaces each
            by the identity. Defaults to True.
        upsample (str): ``'deconv'`` (learned, bilinear init) or
            ``'bilinear'`` (fixed). Defaults to 'deconv'.
        deconv_depthwise (bool): Depthwise (``groups=num_classes``)
            deconvolution. Defaults to True.
        bias (bool): Biases in the classifier and BR convs. Defaults to True.
        stack_channels (int, optional): Width ``m`` of the ``'stack'``
            classifier. Defaults to None (the level's input channels).
        input_transform (str): Must be ``'multiple_select'`` (kept as an
            argument for mmseg-style configs). Defaults to 'multiple_select'.
        channels_last (bool): Run the head in the channels-last memory
            format (the backbone features are converted on entry, a no-op
            when they already are). The maths is unchanged; on CPU the
            21-channel score-map convolutions and deconvolutions run several
            times faster that way (docs/benchmarks.md). The logits come out
            channels-last too. Defaults to False.
        dropout_ratio (float): Dropout on the backbone features before the
            classifiers. Defaults to 0.
        loss_decode (dict | Sequence[dict]): Loss config(s). Defaults to
            per-pixel softmax cross-entropy averaged over the pixels that
            are not ``ignore_index`` (``avg_non_ignore=True``, like Caffe's
            ``SoftmaxWithLoss`` with its default VALID normalisation).
        init_cfg (dict or list[dict], optional): Initialisation config.
            Defaults to ``dict(type='Normal', std=0.01, layer='Conv2d')``.
        **kwargs: Other :class:`BaseDecodeHead` arguments
            (``ignore_index``, ``align_corners``, ``conv_cfg``,
            ``out_channels``, ...). ``channels``, ``norm_cfg`` and
            ``act_cfg`` are refused: the score maps have ``num_classes``
            channels, and the head has no normalisation and no activation
            outside the BR blocks.

    Example:
        >>> import torch
        >>> head = GCNHead(num_classes=21)
        >>> # ResNet features of a 375 x 500 image (strides 4, 8, 16, 32)
        >>> sizes = [(94, 125), (47, 63), (24, 32), (12, 16)]
        >>> feats = [torch.rand(1, c, h, w) for c, (h, w) in
        ...          zip((256, 512, 1024, 2048), sizes)]
        >>> head(feats).shape
        torch.Size([1, 21, 376, 500])
        >>> head(feats, out_size=(375, 500)).shape
        torch.Size([1, 21, 375, 500])
    """

    def __init__(self,
                 in_channels: Sequence[int] = (256, 512, 1024, 2048),
                 in_index: Sequence[int] = (0, 1, 2, 3),
                 *,
                 num_classes: int,
                 feature_strides: Sequence[int] = (4, 8, 16, 32),
                 kernel_size: Union[int, Sequence[int]] = 15,
                 classifier: str = 'gcn',
                 use_br: bool = True,
                 upsample: str = 'deconv',
                 deconv_depthwise: bool = True,
                 bias: bool = True,
                 stack_channels: Optional[int] = None,
                 input_transform: str = 'multiple_select',
                 dropout_ratio: float = 0.0,
                 channels_last: bool = False,
                 loss_decode: Union[ConfigType, Sequence[ConfigType]] = dict(
                     type='CrossEntropyLoss',
                     use_sigmoid=False,
                     loss_weight=1.0,
                     avg_non_ignore=True),
                 init_cfg: Optional[Union[ConfigType,
                                          List[ConfigType]]] = dict(
                                              type='Normal',
                                              std=0.01,
                                              layer='Conv2d'),
                 **kwargs) -> None:
        in_channels = _as_tuple(in_channels)
        in_index = _as_tuple(in_index)
        feature_strides = _as_tuple(feature_strides)
        kernel_sizes = _as_tuple(kernel_size)
        self._check_args(num_classes, in_channels, in_index, feature_strides,
                         kernel_sizes, classifier, upsample, input_transform)
        num_levels = len(in_channels)
        if len(kernel_sizes) == 1:
            kernel_sizes = kernel_sizes * num_levels
        _refuse_fixed_arguments(kwargs)
        out_channels = kwargs.get('out_channels') or num_classes
        super().__init__(
            in_channels,
            out_channels,
            num_classes=num_classes,
            in_index=in_index,
            input_transform=input_transform,
            dropout_ratio=dropout_ratio,
            loss_decode=loss_decode,
            init_cfg=init_cfg,
            **kwargs)
        # The last BR is the real last layer; BaseDecodeHead's 1x1 conv_seg
        # would be a dead parameter.
        del self.conv_seg

        self.feature_strides = feature_strides
        self.kernel_sizes = kernel_sizes
        self.classifier = classifier
        self.use_br = use_br
        self.upsample = upsample
        self.channels_last = channels_last
        n = self.out_channels

        def br() -> nn.Module:
            if not use_br:
                return nn.Identity()
            return BoundaryRefine(n, bias=bias, conv_cfg=self.conv_cfg)

        def up(num: int) -> nn.Module:
            return nn.Sequential(*[
                Upsample2x(
                    n,
                    mode=upsample,
                    depthwise=deconv_depthwise,
                    align_corners=self.align_corners) for _ in range(num)
            ])

        self.classifiers = nn.ModuleList([
            build_classifier(
                classifier,
                c,
                n,
                k,
                bias=bias,
                stack_channels=stack_channels,
                conv_cfg=self.conv_cfg)
            for c, k in zip(in_channels, kernel_sizes)
        ])
        # BR on each level's classifier output
        self.level_refines = nn.ModuleList([br() for _ in range(num_levels)])
        # up_layers[i]: level i + 1 -> level i; fuse_refines[i]: BR after sum
        self.up_layers = nn.ModuleList([
            up(int(math.log2(feature_strides[i + 1] // feature_strides[i])))
            for i in range(num_levels - 1)
        ])
        self.fuse_refines = nn.ModuleList(
            [br() for _ in range(num_levels - 1)])
        # finest level -> input resolution, one (x2 upsampling, BR) per step
        num_final = int(math.log2(feature_strides[0]))
        self.final_ups = nn.ModuleList([up(1) for _ in range(num_final)])
        self.final_refines = nn.ModuleList([br() for _ in range(num_final)])

    @staticmethod
    def _check_args(num_classes: int, in_channels: tuple, in_index: tuple,
                    feature_strides: tuple, kernel_sizes: tuple,
                    classifier: str, upsample: str,
                    input_transform: str) -> None:
        """Raises a ValueError that names the first bad argument."""
        if (isinstance(num_classes, bool) or not isinstance(num_classes, int)
                or num_classes < 1):
            raise ValueError(
                f'num_classes must be an integer >= 1, got {num_classes!r}; '
                f'set it to the number of classes of the dataset (21 on '
                f'PASCAL VOC, 19 on Cityscapes).')
        if input_transform != 'multiple_select':
            raise ValueError(
                f"input_transform must be 'multiple_select' (the head fuses "
                f'the levels itself), got {input_transform!r}.')
        if len(in_channels) != len(in_index):
            raise ValueError(
                f'in_channels has {len(in_channels)} entries but in_index has '
                f'{len(in_index)}; give one channel count per selected '
                f'backbone level, e.g. in_channels=(256, 512, 1024, 2048) '
                f'with in_index=(0, 1, 2, 3).')
        if len(feature_strides) != len(in_channels):
            raise ValueError(
                f'feature_strides has {len(feature_strides)} entries but '
                f'in_channels has {len(in_channels)}; give the output stride '
                f'of each selected level, e.g. feature_strides=(32, ) for a '
                f'res-5-only head.')
        strides_ok = all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 1
            and s & (s - 1) == 0 for s in feature_strides) and all(
                a <= b for a, b in zip(feature_strides, feature_strides[1:]))
        if not strides_ok:
            raise ValueError(
                f'feature_strides must be powers of two that never decrease, '
                f'finest level first: (4, 8, 16, 32) for a ResNet, '
                f'(4, 8, 8, 8) for a dilated ResNet-d8; got '
                f'{feature_strides!r}.')
        if len(kernel_sizes) not in (1, len(in_channels)):
            raise ValueError(
                f'kernel_size has {len(kernel_sizes)} entries but there are '
                f'{len(in_channels)} levels; give one odd size for all levels '
                f'(e.g. 15) or one per level.')
        # the parts' own checks (one message per rule), called here too so
        # that every argument is checked before anything is built
        if check_classifier(classifier) != '1x1':
            for k in kernel_sizes:
                check_kernel_size(k)
        check_upsample_mode(upsample)

    def init_weights(self) -> None:
        """Applies ``init_cfg``, then resets every deconvolution to bilinear
        upsampling."""
        super().init_weights()
        for m in self.modules():
            if isinstance(m, Upsample2x):
                m.init_weights()

    @staticmethod
    def _align(x: Tensor, size: Size) -> Tensor:
        """Crops ``x`` at the bottom/right to ``size``; a map that is smaller
        (a backbone that floors) is padded by repeating its last row/column.

        Both keep the two grids aligned at the top-left pixel. A trace (ONNX
        export, ``torch.export``) records one pad whose amounts are computed
        from the sizes, with no branch on them, so the exported graph crops
        or pads correctly for every input size.
        """
        short_h = size[0] - x.shape[-2]
        short_w = size[1] - x.shape[-1]
        if is_tracing():
            # one op for every size (a negative pad crops)
            return F.pad(x, (0, short_w, 0, short_h), mode='replicate')
        x = x[..., :size[0], :size[1]]  # a view, no copy
        if short_h > 0 or short_w > 0:
            x = F.pad(x, (0, max(short_w, 0), 0, max(short_h, 0)),
                      mode='replicate')
        return x

    def forward(self,
                inputs: Sequence[Tensor],
                out_size: Optional[Size] = None) -> Tensor:
        """Forward function.

        Args:
            inputs (Sequence[Tensor]): Multi-level backbone features.
            out_size (tuple[int, int], optional): Size ``(H, W)`` of the
                logits, normally the network input size. Defaults to None:
                ``feature_strides[0]`` times the finest level's size.

        Returns:
            Tensor: Logits of shape (N, out_channels, H, W).
        """
        feats = self._transform_inputs(inputs)
        if self.channels_last:
            feats = [
                f.contiguous(memory_format=torch.channels_last) for f in feats
            ]
        if self.dropout is not None:
            feats = [self.dropout(f) for f in feats]
        scores = [
            refine(cls(f)) for f, cls, refine in zip(
                feats, self.classifiers, self.level_refines)
        ]
        x = scores[-1]
        for i in range(len(scores) - 2, -1, -1):
            x = self._align(self.up_layers[i](x), scores[i].shape[-2:])
            x = self.fuse_refines[i](scores[i] + x)
        num_final = len(self.final_ups)
        for j, (up, refine) in enumerate(zip(self.final_ups,
                                             self.final_refines)):
            x = up(x)
            if out_size is not None:
                # the stride-s map of an H x W input has ceil(H / s) rows
                # (integer maths: stays symbolic when traced)
                s = 2**(num_final - 1 - j)
                x = self._align(x, ((out_size[0] + s - 1) // s,
                                    (out_size[1] + s - 1) // s))
            x = refine(x)
        if out_size is not None and num_final == 0:
            x = self._align(x, out_size)
        return x

    @staticmethod
    def _pred_size(batch_img_metas: List[dict]) -> Size:
        """The size :meth:`predict_by_feat` resizes the logits to."""
        meta = batch_img_metas[0]
        if isinstance(meta['img_shape'], torch.Size):
            return tuple(meta['img_shape'])  # slide inference
        if 'pad_shape' in meta:
            return tuple(meta['pad_shape'][:2])
        return tuple(meta['img_shape'][:2])

    def loss(self, inputs: Tuple[Tensor], batch_data_samples: SampleList,
             train_cfg: ConfigType) -> dict:
        """Computes the losses; the logits are produced at the label size.

        Args:
            inputs (tuple[Tensor]): Multi-level backbone features.
            batch_data_samples (list[:obj:`SegDataSample`]): Data samples
                with ``gt_sem_seg``.
            train_cfg (dict): The training config.

        Returns:
            dict[str, Tensor]: Loss components.
        """
        out_size = tuple(batch_data_samples[0].gt_sem_seg.data.shape[-2:])
        seg_logits = self.forward(inputs, out_size=out_size)
        return self.loss_by_feat(seg_logits, batch_data_samples)

    def predict(self, inputs: Tuple[Tensor], batch_img_metas: List[dict],
                test_cfg: ConfigType) -> Tensor:
        """Predicts logits at the network input size.

        Args:
            inputs (tuple[Tensor]): Multi-level backbone features.
            batch_img_metas (list[dict]): Image meta information
                (``img_shape``, ``pad_shape``, ...).
            test_cfg (dict): The testing config.

        Returns:
            Tensor: Logits of shape (N, out_channels, H, W).
        """
        seg_logits = self.forward(
            inputs, out_size=self._pred_size(batch_img_metas))
        return self.predict_by_feat(seg_logits, batch_img_metas)
