"""Mixed precision (``--amp``) with or without a GPU.

With a GPU, ``--amp`` is mmengine's ``AmpOptimWrapper`` (fp16 autocast, a
dynamic loss scale), as in mmseg's tools. Without one, mmengine's wrapper
refuses to run; :class:`CPUAmpOptimWrapper` takes its place: the forward
and loss run under ``torch.autocast('cpu', dtype=torch.bfloat16)``, the
backward follows, and the weights, gradients and optimizer state stay fp32.
bf16 keeps fp32's exponent range, so no loss scale is needed. Validation and
testing then run under the same autocast (mmengine's ``ValLoop`` /
``TestLoop`` with ``fp16=True``, which on CPU means bf16).

A CPU with bf16 units (x86 ``avx512_bf16`` or ``amx_bf16``, Arm ``bf16``)
runs bf16 convolutions faster than fp32. One without emulates them: through
oneDNN where it has bf16 kernels for the CPU (AVX-512), about 2-3x slower
than fp32; elsewhere (e.g. an AVX2-only CPU) torch falls back to its
reference convolution, tens of times slower. :func:`warn_if_bf16_is_emulated`
says which, once.
"""
import contextlib
import logging
import os
from typing import Iterator, Optional

import torch
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper
from mmseg.registry import OPTIM_WRAPPERS
from torch import nn

#: CPU flags (``/proc/cpuinfo``) of bf16 arithmetic units.
BF16_CPU_FLAGS = ('avx512_bf16', 'amx_bf16', 'bf16')

_warned = False


def cpu_has_bf16_units(cpuinfo: str = '/proc/cpuinfo') -> Optional[bool]:
    """Whether this CPU computes bf16 in hardware.

    Args:
        cpuinfo (str): The Linux CPU description to read.

    Returns:
        bool, optional: True or False on Linux; None where it cannot tell.
    """
    try:
        with open(cpuinfo, encoding='utf-8', errors='replace') as f:
            text = f.read()
    except OSError:
        return None
    flags = set()
    for line in text.splitlines():
        key, _, value = line.partition(':')
        if key.strip() in ('flags', 'Features'):
            flags.update(value.split())
    return bool(flags & set(BF16_CPU_FLAGS))


def onednn_has_bf16() -> bool:
    """Whether torch's oneDNN (mkldnn) backend runs bf16 convolutions on
    this CPU (it needs AVX-512); without it torch's bf16 convolutions take
    its slow reference path."""
    try:
        return bool(torch.backends.mkldnn.is_available()
                    and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # an older or other build
        return False


def warn_if_bf16_is_emulated() -> None:
    """Says once per process, on rank 0, when bf16 has no hardware units
    here (it then costs time instead of saving it)."""
    global _warned
    if _warned or os.environ.get('RANK', '0') != '0':
        return
    _warned = True
    units = cpu_has_bf16_units()
    if units:
        return
    reason = ('has no bf16 units (no avx512_bf16, amx_bf16 or bf16 flag)'
              if units is False else 'may have no bf16 units (unknown)')
    if onednn_has_bf16():
        cost = ('bf16 is emulated, which is slower than fp32 (2-3x for '
                'GCN-R152-d32 on a CPU with AVX-512)')
    else:
        cost = ('bf16 is emulated, and without oneDNN\'s bf16 kernels '
                '(they need AVX-512) torch runs its reference convolution, '
                'tens of times slower than fp32 (a GCN-R152-d32 forward '
                '40-95x on an AVX2 CPU)')
    print_log(
        f'--amp without a GPU computes in bf16, but this CPU {reason}: '
        f'{cost}; see the README, "Mixed precision". Leave out --amp here.',
        logger='current', level=logging.WARNING)


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward and loss run under bf16 autocast on
    CPU; weights, gradients and optimizer state stay fp32.

    Takes the arguments of mmengine's ``OptimWrapper``.
    """

    @contextlib.contextmanager
    def optim_context(self, model: nn.Module) -> Iterator[None]:
        """mmengine's context (no gradient sync while accumulating) with
        bf16 autocast on CPU."""
        with super().optim_context(model), torch.autocast(
                'cpu', dtype=torch.bfloat16):
            yield


def enable_amp(cfg: Config) -> None:
    """Switches a run config to automatic mixed precision: fp16 with a
    loss scale (mmengine's ``AmpOptimWrapper``) on a GPU, bf16
    (:class:`CPUAmpOptimWrapper`, bf16 validation and testing) without one.

    Args:
        cfg (Config): a run config whose ``optim_wrapper.type`` is
            ``'OptimWrapper'`` (or already an AMP wrapper).

    Raises:
        ValueError: for another optimizer wrapper.
    """
    optim_wrapper = cfg.optim_wrapper.type
    if optim_wrapper in ('AmpOptimWrapper', 'CPUAmpOptimWrapper'):
        print_log('AMP training is already enabled in your config.',
                  logger='current', level=logging.WARNING)
        return
    if optim_wrapper != 'OptimWrapper':
        raise ValueError('--amp needs optim_wrapper.type "OptimWrapper", but '
                         f'the config has {optim_wrapper!r}.')
    if torch.cuda.is_available():
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'
        return
    cfg.optim_wrapper.type = 'CPUAmpOptimWrapper'
    enable_amp_testing(cfg)


def enable_amp_testing(cfg: Config) -> None:
    """Validation and testing under autocast (bf16 on CPU, fp16 on a GPU),
    through mmengine's loops' ``fp16`` switch.

    Args:
        cfg (Config): a run config.
    """
    if not torch.cuda.is_available():
        warn_if_bf16_is_emulated()
    for key in ('val_cfg', 'test_cfg'):
        loop = cfg.get(key)
        if isinstance(loop, dict):
            loop['fp16'] = True


@contextlib.contextmanager
def inference_autocast(enabled: bool) -> Iterator[None]:
    """Autocast for a model's inference outside mmengine's loops: bf16 on
    CPU, fp16 on a GPU; nothing when not ``enabled``.

    Args:
        enabled (bool): whether to autocast.
    """
    if not enabled:
        yield
        return
    if torch.cuda.is_available():
        with torch.autocast('cuda', dtype=torch.float16):
            yield
        return
    warn_if_bf16_is_emulated()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        yield


__all__ = [
    'BF16_CPU_FLAGS', 'CPUAmpOptimWrapper', 'cpu_has_bf16_units',
    'enable_amp', 'enable_amp_testing', 'inference_autocast',
    'warn_if_bf16_is_emulated'
]
