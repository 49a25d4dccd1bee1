"""Wall time and peak memory of a piece of work, on CPU or CUDA (synchronised
around it when CUDA)."""
import statistics
import time
from contextlib import contextmanager
from typing import Callable, Iterator, List

import torch


def _sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


@contextmanager
def timing_method(owner: object, name: str, device: torch.device,
                  times: List[float]) -> Iterator[None]:
    """Appends the milliseconds of every call of ``owner.<name>`` to
    ``times`` while the context is open.

    A bound method is wrapped, not a forward hook: mmseg's segmentors call
    ``decode_head.predict``, which calls ``forward`` directly, so module hooks
    never see the head.

    Args:
        owner (object): The object whose method is timed, e.g. a head.
        name (str): The method name, e.g. ``'predict'``.
        device (torch.device): Synchronised around each call when CUDA.
        times (list[float]): Where the times go.
    """
    method = getattr(owner, name)

    def timed(*args, **kwargs):
        _sync(device)
        start = time.perf_counter()
        out = method(*args, **kwargs)
        _sync(device)
        times.append(1e3 * (time.perf_counter() - start))
        return out

    setattr(owner, name, timed)
    try:
        yield
    finally:
        delattr(owner, name)


def time_once(fn: Callable[[], object], device: torch.device) -> float:
    """Wall time of one run of ``fn`` in milliseconds.

    Args:
        fn (callable): The work to time.
        device (torch.device): Synchronised before and after when CUDA, so
            the time covers the kernels and not only their launch.

    Returns:
        float: Milliseconds.
    """
    _sync(device)
    start = time.perf_counter()
    fn()
    _sync(device)
    return 1e3 * (time.perf_counter() - start)


def time_median(fn: Callable[[], object], device: torch.device, warmup: int,
                repeats: int) -> float:
    """Median wall time of ``fn`` in milliseconds.

    Args:
        fn (callable): The work to time.
        device (torch.device): Synchronised around each run when CUDA.
        warmup (int): Untimed runs first.
        repeats (int): Timed runs.

    Returns:
        float: Median milliseconds.
    """
    for _ in range(warmup):
        fn()
    return statistics.median(time_once(fn, device) for _ in range(repeats))


def cpu_peak_bytes(fn: Callable[[], object]) -> int:
    """Peak of the bytes held by torch's CPU allocator while ``fn`` runs,
    above what it held at the start.

    Rebuilt from ``torch.profiler``'s memory events: every op reports the
    bytes it allocated (positive) and freed (negative) itself; replayed in
    time order, their running sum peaks at the answer.

    Args:
        fn (callable): The work to measure.

    Returns:
        int: Bytes.
    """
    from torch.profiler import ProfilerActivity, profile
    with profile(
            activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    events = sorted(((e.time_range.start, e.self_cpu_memory_usage)
                     for e in prof.events() if e.self_cpu_memory_usage),
                    key=lambda t: t[0])
    current = peak = 0
    for _, delta in events:
        current += delta
        peak = max(peak, current)
    return peak


def peak_bytes(fn: Callable[[], object], device: torch.device) -> int:
    """Peak memory of ``fn`` above what is allocated before it.

    Args:
        fn (callable): The work to measure.
        device (torch.device): CUDA: ``max_memory_allocated``; CPU: see
            :func:`cpu_peak_bytes`.

    Returns:
        int: Bytes.
    """
    if device.type == 'cuda':
        _sync(device)
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
        fn()
        _sync(device)
        return torch.cuda.max_memory_allocated(device) - before
    return cpu_peak_bytes(fn)
