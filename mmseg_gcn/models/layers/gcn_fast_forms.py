"""Faster forms of :class:`~mmseg_gcn.models.layers.gcn.GCN`'s sum on CPU.

They compute exactly the paper's two branches (``GCN.paper_forward``), in
another order of operations (outputs and gradients equal within float
tolerance; ``tests/models/test_gcn.py`` compares them):

- training (gradients on): the right branch runs on the H/W-swapped map
  (:func:`_training_forward`): on CPU the backward of a ``1 x k`` conv is
  several times slower than that of a ``k x 1`` conv;
- inference on a channels-last map: the first conv of each branch is one
  matrix product with all k taps at once (:func:`_taps_conv`).

Everything else (NCHW inference, a trace for export, ``conv_cfg`` layers)
runs the paper's form.
"""
import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from torch import Tensor, nn


def is_tracing() -> bool:
    """Whether the forward is being traced or exported rather than run."""
    return torch.jit.is_tracing() or torch.compiler.is_compiling()


def _is_channels_last(x: Tensor) -> bool:
    return (x.is_contiguous(memory_format=torch.channels_last)
            and not x.is_contiguous())


def has_fast_form(gcn: nn.Module, x: Tensor) -> bool:
    """Whether :func:`fast_forward` applies to this GCN and input: not while
    tracing, only for plain ``nn.Conv2d`` layers (not ``conv_cfg`` layers
    whose forward it would bypass), and for training or a channels-last
    inference input.

    Args:
        gcn (GCN): The module.
        x (Tensor): Its input.

    Returns:
        bool: True if :func:`fast_forward` computes ``gcn(x)``.
    """
    if is_tracing():
        return False
    if not all(
            type(m.conv) is nn.Conv2d
            for m in (gcn.conv_l1, gcn.conv_l2, gcn.conv_r1, gcn.conv_r2)):
        return False
    return torch.is_grad_enabled() or _is_channels_last(x)


def fast_forward(gcn: nn.Module, x: Tensor) -> Tensor:
    """``gcn.paper_forward(x)``, computed faster on CPU (see the module
    docstring); only where :func:`has_fast_form` says so.

    Args:
        gcn (GCN): The module.
        x (Tensor): Input of shape (N, in_channels, H, W).

    Returns:
        Tensor: Output of shape (N, out_channels, H, W).
    """
    if torch.is_grad_enabled():
        return _training_forward(gcn, x)
    return (gcn.conv_l2(_taps_conv(gcn.conv_l1.conv, x, dim=2)) +
            gcn.conv_r2(_taps_conv(gcn.conv_r1.conv, x, dim=3)))


def _training_forward(gcn: nn.Module, x: Tensor) -> Tensor:
    """The right branch (1 x k, then k x 1) computed as the left branch's
    shape (k x 1, then 1 x k) on the map with H and W swapped, with the same
    weights transposed: on CPU the backward of a 1 x k conv is several times
    slower than that of a k x 1 conv, which costs more than the one
    transposed copy."""
    left = gcn.conv_l2(gcn.conv_l1(x))
    memory_format = (torch.channels_last if _is_channels_last(x) else
                     torch.contiguous_format)
    swapped = x.transpose(2, 3).contiguous(memory_format=memory_format)
    right = _swapped_conv(gcn.conv_r2, _swapped_conv(gcn.conv_r1, swapped))
    return left + right.transpose(2, 3)


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
    # A contiguous copy: torch's bf16 convolution without oneDNN (a CPU
    # without AVX-512) cannot return the gradient of a transposed
    # channels-last weight ("slow_conv2d: grad_weight must be contiguous").
    return F.conv2d(x, conv.weight.transpose(2, 3).contiguous(), conv.bias,
                    conv.stride[::-1], conv.padding[::-1],
                    conv.dilation[::-1], conv.groups)
