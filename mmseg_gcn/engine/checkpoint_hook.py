"""``SafeCheckpointHook``: mmengine's ``CheckpointHook`` with the same
settings, whose checkpoints survive a full disk, a kill and a preemption.

- **Atomic.** Every checkpoint it saves (periodic, last, best, and the two
  kinds below) is written to a temporary file in its folder, flushed and
  renamed into place (:mod:`mmseg_gcn.engine.checkpoint_writing`). An old
  checkpoint (``max_keep_ckpts``, the previous best) is deleted only after
  the new one is complete, and ``last_checkpoint`` is rewritten (atomically)
  only after the rename. A failed write stops the run with
  :class:`~mmseg_gcn.engine.checkpoint_writing.CheckpointWriteError` and
  leaves the previous checkpoints as they were. Temporary files a killed run
  left behind are removed when training starts.
- **Preemption.** During training, ``SIGTERM`` and ``SIGUSR1``
  (:mod:`mmseg_gcn.engine.preemption`) end the run at the end of the current
  iteration: it saves a checkpoint at that iteration and raises
  :class:`~mmseg_gcn.engine.preemption.TrainingPreempted`. In a multi-process
  run the ranks agree every iteration (one all-reduce of two numbers) on
  whether any of them was signalled, so they all stop at the same iteration;
  rank 0 writes.
- **Wall time.** ``interval_minutes`` (default
  :data:`DEFAULT_INTERVAL_MINUTES`) also saves a checkpoint when that many
  minutes passed since the last one, so a hard kill loses at most that much
  training; ``None`` turns it off. Rank 0's clock decides for all ranks.
  Wall-time and preemption checkpoints are named like the periodic ones
  (``filename_tmpl``) but are not counted by ``max_keep_ckpts``: only the
  newest of them is kept, until a newer checkpoint of any kind is complete.
- **Exact resumption.** Each checkpoint also holds every rank's torch random
  state (``meta['torch_rng_states']``; dropout draws from it), and a resumed
  run restores it before its first iteration, so its losses equal those of
  an uninterrupted run. numpy's and Python's states need no saving: they
  replay from the seed as mmengine re-reads the skipped batches.

Wall-time and preemption checkpoints are for iteration-based training
(``by_epoch=False``, as every config of this package); an epoch-based run
stops on a signal without a new checkpoint (it resumes from the last epoch's
checkpoint). With a non-local ``out_dir`` or backend (e.g. ``s3://``) the
files are written as mmengine writes them.

The package's tools use this hook in place of ``CheckpointHook``
(:func:`use_safe_checkpoint_hook`); name ``type='mmengine.CheckpointHook'``
to keep mmengine's own, or ``type='mmseg.SafeCheckpointHook'`` to use it
from mmseg's own ``tools/train.py``.
"""
import contextlib
import os.path as osp
import time
from typing import Any, Callable, List, Optional

import torch
from mmengine.config import Config
from mmengine.dist import all_gather_object, all_reduce, get_rank, \
    is_distributed, is_main_process
from mmengine.fileio.backends import LocalBackend
from mmengine.hooks import CheckpointHook
from mmseg.registry import HOOKS

from .checkpoint_writing import (on_main_process, remove_stale_temp_files,
                                 serialized_size, write_checkpoint_file)
from .preemption import (TrainingPreempted, signal_name, stop_requested,
                         stop_signals_handled)

#: Minutes of training after which a checkpoint is saved even between the
#: iteration intervals (the paper's schedules save every 16,000 iterations,
#: hours apart).
DEFAULT_INTERVAL_MINUTES = 30
#: Where the ranks' torch random states are kept in a checkpoint's meta.
RNG_STATES_KEY = 'torch_rng_states'
#: The message-hub entry naming the newest wall-time or preemption
#: checkpoint (deleted once a newer checkpoint is complete).
EXTRA_CKPT_KEY = 'extra_ckpt'
#: The type this package's tools give a config's ``CheckpointHook``.
SAFE_HOOK_TYPE = 'mmseg.SafeCheckpointHook'


class _DeferredRemovals:
    """A file backend whose ``remove`` and ``rmtree`` wait in
    :attr:`removals`; everything else is the wrapped backend's."""

    def __init__(self, backend) -> None:
        self._backend = backend
        self.removals: List[str] = []

    def remove(self, path) -> None:
        self.removals.append(path)

    def rmtree(self, path) -> None:
        self.removals.append(path)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)


class _AtomicSaving:
    """A runner whose ``save_checkpoint`` is the hook's atomic one."""

    def __init__(self, runner, hook: 'SafeCheckpointHook') -> None:
        self.wrapped_runner = runner
        self._hook = hook

    def save_checkpoint(self, out_dir: str, filename: str, **kwargs) -> None:
        self._hook._write(self.wrapped_runner, filename, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped_runner, name)


def _unwrap(runner):
    return getattr(runner, 'wrapped_runner', runner)


@HOOKS.register_module()
class SafeCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook``, atomic, preemption-safe and with a
    wall-time interval (see the module's documentation).

    Args:
        interval_minutes (float, optional): also save when this many minutes
            passed since the last checkpoint; None: only by iterations.
        **kwargs: ``CheckpointHook``'s arguments.
    """

    def __init__(self,
                 *args,
                 interval_minutes: Optional[float] = DEFAULT_INTERVAL_MINUTES,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if interval_minutes is not None and not interval_minutes > 0:
            raise ValueError('interval_minutes must be a number of minutes '
                             f'> 0 or None, got {interval_minutes!r}')
        self.interval_minutes = interval_minutes
        self._signals = contextlib.ExitStack()
        self._last_save_time = time.monotonic()
        self._saved_step: Optional[int] = None
        self._rng_states: Optional[list] = None
        self._resume_rng: Optional[tuple] = None
        self._saving: Optional[dict] = None  # the checkpoint being written
        self._local = False

    # training start and end

    def before_train(self, runner) -> None:
        super().before_train(runner)
        self._local = (self.file_client_args is None
                       and isinstance(self.file_backend, LocalBackend))
        if self._local and is_main_process():
            for path in remove_stale_temp_files(self.out_dir):
                runner.logger.warning(f'Removed {path}, the unfinished '
                                      'write of a checkpoint by a process '
                                      'that was killed.')
        self._signals.enter_context(stop_signals_handled())
        self._last_save_time = time.monotonic()

    def after_train(self, runner) -> None:
        super().after_train(runner)
        self._signals.close()

    # writing

    def _write(self, runner, filename: str,
               then: Optional[Callable[[], None]] = None, **kwargs) -> str:
        """Saves the runner's checkpoint as ``<out_dir>/<filename>``
        atomically (on rank 0; every rank calls it), then calls ``then`` on
        rank 0. The other ranks go on only when both are done: a launcher
        that ends the job when one process exits (slurm's
        ``--kill-on-bad-exit``, torchrun) cannot cut them off."""
        runner = _unwrap(runner)
        path = self.file_backend.join_path(self.out_dir, filename)
        state = dict(torch=torch.get_rng_state())
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state['cuda'] = torch.cuda.get_rng_state()
        self._rng_states = (all_gather_object(state) if is_distributed()
                            else [state])
        try:
            if not self._local:
                runner.save_checkpoint(self.out_dir, filename, **kwargs)
                if then is not None and is_main_process():
                    then()
                return path
            kwargs.pop('file_client_args', None)

            def write(tmp: str) -> None:
                runner.save_checkpoint(osp.dirname(tmp), osp.basename(tmp),
                                       **kwargs)

            def save() -> None:
                write_checkpoint_file(path, write, needed=lambda:
                                      serialized_size(self._saving))
                if then is not None:
                    then()

            on_main_process(save)
        finally:
            # not kept: it holds a copy of the weights and optimizer state
            self._rng_states = self._saving = None
        return path

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self._rng_states is not None:
            checkpoint['meta'][RNG_STATES_KEY] = self._rng_states
        self._saving = checkpoint

    def _remove(self, path: Optional[str], keep: str) -> None:
        if (path and path != keep and is_main_process()
                and self.file_backend.isfile(path)):
            self.file_backend.remove(path)

    def _save_step(self, runner, step: int, meta: dict,
                   old_steps=(), extra: bool = False) -> None:
        """Saves the checkpoint of ``step``, then points ``last_checkpoint``
        at it, then deletes what it replaces."""
        hub = runner.message_hub
        path = self.file_backend.join_path(self.out_dir,
                                           self.filename_tmpl.format(step))
        previous_extra = hub.get_info(EXTRA_CKPT_KEY)
        self.last_ckpt = path
        hub.update_info('last_ckpt', path)
        hub.update_info(EXTRA_CKPT_KEY, path if extra else None)
        pointer = osp.join(_unwrap(runner).work_dir, 'last_checkpoint')

        def write_pointer(tmp: str) -> None:
            with open(tmp, 'w') as f:
                f.write(path)

        def point_and_prune() -> None:
            write_checkpoint_file(pointer, write_pointer)
            for old in old_steps:
                self._remove(self.file_backend.join_path(
                    self.out_dir, self.filename_tmpl.format(old)), keep=path)
            self._remove(previous_extra, keep=path)

        self._write(
            runner, osp.basename(path), then=point_and_prune,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta, by_epoch=self.by_epoch,
            backend_args=self.backend_args, **self.args)
        self._saved_step, self._last_save_time = step, time.monotonic()

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        old_steps = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and
                                            self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                old_steps.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))
        self._save_step(runner, step, meta, old_steps)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        backend = self.file_backend
        self.file_backend = deferred = _DeferredRemovals(backend)
        try:
            super()._save_best_checkpoint(_AtomicSaving(runner, self),
                                          metrics)
        finally:
            self.file_backend = backend
        for path in deferred.removals:
            self._remove(path, keep=self.last_ckpt)

    # preemption and wall time

    def _agree(self) -> tuple:
        """(the stop signal any rank received or 0, whether rank 0's clock
        says a wall-time checkpoint is due), the same on every rank."""
        due = (self.interval_minutes is not None and get_rank() == 0
               and time.monotonic() - self._last_save_time >=
               self.interval_minutes * 60)
        flags = [stop_requested(), int(due)]
        if is_distributed():
            tensor = torch.tensor(flags, dtype=torch.int64)
            all_reduce(tensor, op='max')
            flags = tensor.tolist()
        return flags[0], bool(flags[1])

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        super().after_train_iter(runner, batch_idx, data_batch, outputs)
        signum, due = self._agree()
        step = runner.iter + 1
        if (signum or due) and not self.by_epoch and self._saved_step != step:
            why = (f'{signal_name(signum)} received' if signum else
                   f'{self.interval_minutes:g} minutes since the last one')
            runner.logger.info(f'Saving checkpoint at {step} iterations '
                               f'({why})')
            self._save_step(runner, step, dict(epoch=runner.epoch, iter=step),
                            extra=True)
        if signum:
            raise TrainingPreempted(signum, step, self.last_ckpt)

    # exact resumption

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        meta = checkpoint.get('meta') or {}
        if meta.get(RNG_STATES_KEY):
            self._resume_rng = (meta.get('iter'), meta[RNG_STATES_KEY])

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        if self._resume_rng is None:
            return
        iteration, states = self._resume_rng
        self._resume_rng = None
        if not iteration or runner.iter != iteration:
            return  # weights only (load_from), not a resumed run
        state = states[get_rank()] if get_rank() < len(states) else states[0]
        torch.set_rng_state(state['torch'])
        if 'cuda' in state and torch.cuda.is_available():
            torch.cuda.set_rng_state(state['cuda'])


def use_safe_checkpoint_hook(cfg: Config) -> None:
    """Makes a config's ``default_hooks.checkpoint`` of type
    ``'CheckpointHook'`` a :class:`SafeCheckpointHook` (same settings).

    A config that names ``'mmengine.CheckpointHook'`` (or another type)
    keeps it.

    Args:
        cfg (Config): a run config; changed in place.
    """
    hook = (cfg.get('default_hooks') or {}).get('checkpoint')
    if isinstance(hook, dict) and hook.get('type') in ('CheckpointHook',
                                                       CheckpointHook):
        hook['type'] = SAFE_HOOK_TYPE


__all__ = [
    'DEFAULT_INTERVAL_MINUTES', 'RNG_STATES_KEY', 'SAFE_HOOK_TYPE',
    'SafeCheckpointHook', 'use_safe_checkpoint_hook'
]
