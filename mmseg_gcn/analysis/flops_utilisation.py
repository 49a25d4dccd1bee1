"""Model-FLOPs utilisation (MFU): the FLOP/s a model achieves over the
peak its accelerator offers.

FLOP counters such as mmengine's count multiply-accumulates (MACs); one MAC
is two floating-point operations, so achieved FLOP/s = 2 x MACs / seconds.
A training step (forward + backward) is taken as three forward passes, the
usual estimate (the backward pass costs about twice the forward).
"""
from typing import Dict, Optional, Tuple

# Dense (no sparsity) peak TFLOP/s of known GPUs per precision, from the
# vendor's data sheets. Matched against ``torch.cuda.get_device_name`` in
# order: the first key found in the name wins, so the more specific names
# (``H100 PCIe``, ``L40S``) come before those they contain.
GPU_PEAK_TFLOPS: Tuple[Tuple[str, Dict[str, float]], ...] = (
    ('H100 PCIe', dict(bf16=756.0, fp16=756.0, tf32=378.0, fp32=51.0)),
    ('H100', dict(bf16=989.0, fp16=989.0, tf32=494.0, fp32=67.0)),  # SXM
    ('H200', dict(bf16=989.0, fp16=989.0, tf32=494.0, fp32=67.0)),  # SXM
    ('A100', dict(bf16=312.0, fp16=312.0, tf32=156.0, fp32=19.5)),
    ('L40S', dict(bf16=362.0, fp16=362.0, tf32=183.0, fp32=91.6)),
    ('V100', dict(fp16=125.0, fp32=15.7)),
)
PRECISIONS = ('bf16', 'fp16', 'tf32', 'fp32')
TRAIN_FORWARD_EQUIVALENTS = 3


def peak_tflops(device_name: str, precision: str) -> Optional[float]:
    """The dense peak TFLOP/s of a known GPU at a precision.

    Args:
        device_name (str): As ``torch.cuda.get_device_name`` gives it,
            e.g. ``'NVIDIA H100 80GB HBM3'``.
        precision (str): One of :data:`PRECISIONS`.

    Returns:
        float | None: TFLOP/s, or None for an unknown GPU or a precision
        the table does not give for it.
    """
    if precision not in PRECISIONS:
        raise ValueError(f'unknown precision {precision!r}; choose from '
                         f'{PRECISIONS}.')
    for key, peaks in GPU_PEAK_TFLOPS:
        if key.lower() in device_name.lower():
            return peaks.get(precision)
    return None


def model_flops_utilisation(macs: float,
                            seconds: float,
                            peak_tflops_per_s: float,
                            forward_equivalents: int = 1) -> float:
    """The fraction of the peak that a measured run achieved.

    Args:
        macs (float): Multiply-accumulates of one forward pass of the whole
            batch.
        seconds (float): Measured wall time of the run.
        peak_tflops_per_s (float): The device's peak, in TFLOP/s.
        forward_equivalents (int): How many forward passes the run is
            worth: 1 for inference, :data:`TRAIN_FORWARD_EQUIVALENTS` for a
            training step. Defaults to 1.

    Returns:
        float: Achieved FLOP/s over peak FLOP/s (0.4 means 40 %).
    """
    for name, value in (('macs', macs), ('seconds', seconds),
                        ('peak_tflops_per_s', peak_tflops_per_s)):
        if not value > 0:
            raise ValueError(f'{name} must be > 0, got {value!r}.')
    achieved = 2.0 * macs * forward_equivalents / seconds
    return achieved / (peak_tflops_per_s * 1e12)
