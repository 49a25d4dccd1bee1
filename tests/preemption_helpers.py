"""Hooks the preemption and checkpoint-writing tests add through
``custom_hooks`` (``custom_imports = dict(imports=['preemption_helpers'])``,
``tests/`` on ``PYTHONPATH``):

- :class:`SignalAtIterHook` sends its own process a signal during an
  iteration (on one rank, or every rank), as a scheduler would;
- :class:`FillDiskAfterIterHook` fills the disk of the work dir after a
  checkpoint, as another job's file would;
- :class:`KillDuringWriteHook` kills the process (SIGKILL) half-way through
  writing the n-th checkpoint file, as a node loss would.
"""
import os
import signal
from typing import Optional

from mmengine.dist import get_rank
from mmengine.fileio.backends import LocalBackend
from mmengine.hooks import Hook
from mmseg.registry import HOOKS


@HOOKS.register_module()
class SignalAtIterHook(Hook):
    """Sends ``signal`` (a name, e.g. ``'SIGTERM'``) to its own process in
    iteration ``at_iter`` (1-based), on rank ``rank`` (None: every rank),
    in the job's attempt ``attempt`` (torchrun's restart count; None: in
    every attempt). It runs before the checkpoint hook, so the run stops at
    that very iteration."""

    priority = 'NORMAL'

    def __init__(self, at_iter: int, signal: str = 'SIGTERM',
                 rank: Optional[int] = None,
                 attempt: Optional[int] = None) -> None:
        self.at_iter, self.signal, self.rank = at_iter, signal, rank
        self.attempt = attempt

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        this_attempt = int(os.environ.get('TORCHELASTIC_RESTART_COUNT', 0))
        if self.attempt not in (None, this_attempt):
            return
        if runner.iter + 1 == self.at_iter and self.rank in (None,
                                                              get_rank()):
            print(f'SignalAtIterHook: {self.signal} to rank {get_rank()} at '
                  f'iteration {self.at_iter}', flush=True)
            os.kill(os.getpid(), getattr(signal, self.signal))


@HOOKS.register_module()
class FillDiskAfterIterHook(Hook):
    """After the checkpoint of iteration ``at_iter`` is written, writes
    ``path`` so that only ``leave_bytes`` stay free on its disk."""

    priority = 'LOWEST'  # after the checkpoint hook

    def __init__(self, at_iter: int, path: str, leave_bytes: int) -> None:
        self.at_iter, self.path, self.leave = at_iter, path, leave_bytes

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if runner.iter + 1 != self.at_iter:
            return
        free = os.statvfs(os.path.dirname(self.path))
        size = free.f_bavail * free.f_frsize - self.leave
        with open(self.path, 'wb') as f:
            f.write(b'\0' * max(size, 0))
        print(f'FillDiskAfterIterHook: wrote {size} bytes', flush=True)


@HOOKS.register_module()
class KillDuringWriteHook(Hook):
    """Kills the process (SIGKILL) after it wrote half of its
    ``at_save``-th checkpoint file (1-based)."""

    def __init__(self, at_save: int) -> None:
        self.at_save, self.saves = at_save, 0

    def before_save_checkpoint(self, runner, checkpoint) -> None:
        self.saves += 1
        if self.saves != self.at_save:
            return

        def put(backend, obj, filepath):
            with open(filepath, 'wb') as f:
                f.write(obj[:len(obj) // 2])
                f.flush()
                os.fsync(f.fileno())
            print(f'KillDuringWriteHook: killed writing {filepath}',
                  flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

        # test code only: this process dies in the write
        LocalBackend.put = put

