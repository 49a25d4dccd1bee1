"""Preemption: a stop signal ends a training run at the end of its current
iteration, after an (atomic) checkpoint.

Schedulers warn a job before they stop it: slurm sends the signal that
``--signal`` names (``tools/slurm_train.sh`` asks for ``SIGUSR1``),
Kubernetes, spot instances and ``scancel`` send ``SIGTERM``, and torchrun
passes what it receives on to its workers. While :func:`stop_signals_handled`
is active (:class:`~mmseg_gcn.engine.checkpoint_hook.SafeCheckpointHook`
turns it on when training starts and off when it ends), the first of
:data:`STOP_SIGNALS` only records that a stop was asked for; the checkpoint
hook then saves at the end of the iteration and raises
:class:`TrainingPreempted`, and the tool exits with
:data:`PREEMPTED_EXIT_CODE`. A second stop signal gets the previous handler
(by default it ends the process at once), for a process that is stuck.
Outside training (building the model, between the stages of a schedule)
the signals keep their previous handlers; every file is written atomically
there too, so a kill loses no checkpoint.

A run that torchrun restarts (``--max-restarts``) or slurm requeues resumes
by itself: :func:`restart_count` reads the launchers' restart counters.
"""
import contextlib
import os
import signal
import threading
from typing import Iterator, Optional

#: The signals that stop a run at the end of its current iteration.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGUSR1)
#: The exit status of a run that stopped on a signal after saving its
#: checkpoint (``EX_TEMPFAIL``: try again, with ``--resume``).
PREEMPTED_EXIT_CODE = 75
#: Environment variables that count a job's restarts: torchrun's
#: (``--max-restarts``) and slurm's (a requeued job).
RESTART_COUNT_ENV = ('TORCHELASTIC_RESTART_COUNT', 'SLURM_RESTART_COUNT')


class TrainingPreempted(Exception):
    """A run stopped on a stop signal, after saving a checkpoint.

    Attributes:
        signum (int): the signal.
        iteration (int, optional): the last iteration trained; None
            between the stages of a schedule.
        checkpoint (str, optional): the checkpoint it resumes from.
    """

    def __init__(self, signum: int, iteration: Optional[int],
                 checkpoint: Optional[str]) -> None:
        self.signum, self.iteration = signum, iteration
        self.checkpoint = checkpoint
        when = (f'after iteration {iteration}' if iteration is not None else
                'before the next stage')
        saved = (f'checkpoint {checkpoint}' if checkpoint else
                 'no new checkpoint')
        super().__init__(
            f'stopped on {signal_name(signum)} {when} ({saved}); run the '
            'same command with --resume to continue (exit status '
            f'{PREEMPTED_EXIT_CODE})')


def signal_name(signum: int) -> str:
    """``'SIGTERM'`` for 15."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f'signal {signum}'


class _StopRequests:
    """The process's stop-signal state: the first stop signal received while
    handled, and the handlers it replaced."""

    def __init__(self) -> None:
        self.signum = 0
        self.depth = 0
        self.previous = {}

    def _record(self, signum, frame) -> None:
        if not self.signum:
            self.signum = signum
            return
        # a second stop signal: the process may be stuck (e.g. waiting for
        # a dead peer); let it end as it would have without us
        handler = self.previous.get(signum, signal.SIG_DFL)
        if callable(handler):
            handler(signum, frame)
            return
        signal.signal(signum, handler)
        signal.raise_signal(signum)

    def install(self) -> None:
        self.depth += 1
        if self.depth > 1:
            return
        for sig in STOP_SIGNALS:
            self.previous[sig] = signal.signal(sig, self._record)

    def uninstall(self) -> None:
        self.depth -= 1
        if self.depth > 0:
            return
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
        self.previous = {}


_REQUESTS = _StopRequests()


@contextlib.contextmanager
def stop_signals_handled() -> Iterator[None]:
    """While active, :data:`STOP_SIGNALS` are recorded (see
    :func:`stop_requested`) instead of ending the process. Nested uses are
    one; outside the main thread (where Python cannot handle signals) it
    does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _REQUESTS.install()
    try:
        yield
    finally:
        _REQUESTS.uninstall()


def stop_requested() -> int:
    """The stop signal this process received (0 for none)."""
    return _REQUESTS.signum


def clear_stop_request() -> None:
    """Forgets a received stop signal (for a process that trains again)."""
    _REQUESTS.signum = 0


def restart_count() -> int:
    """How often torchrun restarted, or slurm requeued, this job (0 if it
    is the first run)."""
    counts = [os.environ.get(name, '') for name in RESTART_COUNT_ENV]
    return max([int(c) for c in counts if c.strip().isdigit()] or [0])


__all__ = [
    'PREEMPTED_EXIT_CODE', 'RESTART_COUNT_ENV', 'STOP_SIGNALS',
    'TrainingPreempted', 'clear_stop_request', 'restart_count',
    'signal_name', 'stop_requested', 'stop_signals_handled'
]
