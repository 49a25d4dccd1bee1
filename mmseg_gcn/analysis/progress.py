"""How the analysis tools' progress lines and reports write a duration, and
the ETA of a benchmark's runs."""
import time
from typing import Dict, Optional, Sequence, Tuple


def format_duration(seconds: float) -> str:
    """``'1h02m'``, ``'12m05s'`` or ``'42s'``."""
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f'{hours}h{minutes:02d}m'
    if minutes:
        return f'{minutes}m{secs:02d}s'
    return f'{secs}s'


class BenchmarkSchedule:
    """Counts a benchmark's runs left and estimates the time they need (the
    ETA) from what each one took so far.

    Args:
        runs (Sequence[str]): What is measured (e.g. a model in a precision).
        sizes (Sequence[tuple[int, int]]): Input sizes.
        runs_per_phase (int): Runs of each phase ('forward', 'train') per
            model and size; one more forward is counted for the FLOPs.
        train_factor (float): A training step's time over a forward's, for
            the ETA before the first step is timed.
    """

    def __init__(self, runs: Sequence[str], sizes: Sequence[Tuple[int, int]],
                 runs_per_phase: int, train_factor: float) -> None:
        self.pixels = {s: s[0] * s[1] for s in sizes}
        # per (model, phase, size): runs left; +1 forward for the FLOPs
        self.left = {
            (m, p, s): runs_per_phase + (p == 'forward')
            for m in runs
            for p in ('forward', 'train')
            for s in sizes
        }
        self.measured: Dict[Tuple[str, str, Tuple[int, int]], float] = {}
        self.train_factor = train_factor
        self.start = time.perf_counter()

    def done(self, model: str, phase: str, size: Tuple[int, int],
             ms: float) -> None:
        self.left[(model, phase, size)] -= 1
        self.measured[(model, phase, size)] = ms

    def _estimate(self, model: str, phase: str,
                  size: Tuple[int, int]) -> Optional[float]:
        """Milliseconds of one run: as measured at this size, else scaled
        by the pixels from another size; a training step not yet measured
        is guessed from the forward pass."""
        for measured_phase, factor in ((phase, 1.0), ('forward',
                                                      self.train_factor)):
            known = {
                s: ms
                for (m, p, s), ms in self.measured.items()
                if m == model and p == measured_phase
            }
            if size in known:
                return known[size] * factor
            for s, ms in known.items():
                return ms * factor * self.pixels[size] / self.pixels[s]
        return None

    def eta(self) -> Optional[float]:
        total = 0.0
        for (model, phase, size), runs in self.left.items():
            if runs:
                ms = self._estimate(model, phase, size)
                if ms is None:
                    return None
                total += runs * ms / 1e3
        return total

    def line(self, what: str) -> str:
        elapsed = time.perf_counter() - self.start
        eta = self.eta()
        eta_text = format_duration(eta) if eta is not None else \
            'after every model has run once'
        return (f'{what} | elapsed {format_duration(elapsed)}, '
                f'ETA {eta_text}')
