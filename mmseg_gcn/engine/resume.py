"""Which checkpoint of a work folder an interrupted run resumes from.

mmengine's ``CheckpointHook`` writes the path of the checkpoint it saved last
into ``<work_dir>/last_checkpoint``, and mmengine resumes from whatever file
that path names. Two things go wrong with that:

- a work folder that was copied or moved still names the *original* folder's
  files, so the copy silently resumes from (or finishes with) another run's
  weights;
- a truncated or corrupt last checkpoint stops the run, although an older
  intact checkpoint sits next to it.

:func:`find_resume_checkpoint` therefore:

- uses only checkpoints inside the run's checkpoint folder (real paths, so a
  symbolic link out of the folder does not count). A recorded path outside it
  is not followed: the file of the same name in the folder is used instead,
  saying so; without one, it raises :class:`ResumeCheckpointError` with the
  fix;
- loads the checkpoint (safely, through
  :func:`~mmseg_gcn.engine.checkpoint.load_local_checkpoint`) and takes its
  iteration from ``meta['iter']``, whatever its file name (a custom
  ``CheckpointHook`` ``filename_tmpl`` works);
- if that checkpoint cannot be used, falls back to the newest intact training
  checkpoint of the folder (highest ``meta['iter']``), saying so, or raises
  :class:`ResumeCheckpointError` when there is none. The fallback loads every
  ``.pth`` file of the folder once, which takes a while for a folder of large
  checkpoints; it only runs when the last checkpoint is broken.
"""
import os
import os.path as osp
from dataclasses import dataclass
from typing import List, Optional, Tuple

from mmengine.config import Config

from .checkpoint import UntrustedCheckpointError, load_local_checkpoint

#: The file in a work folder that names the checkpoint saved last.
LAST_CHECKPOINT = 'last_checkpoint'
#: What a checkpoint needs to be resumed from (mmengine's ``Runner.resume``).
_RESUME_KEYS = ('meta', 'state_dict', 'message_hub')


class ResumeCheckpointError(RuntimeError):
    """A work folder's checkpoints cannot be resumed from; the message says
    why and how to fix it."""


@dataclass(frozen=True)
class ResumePoint:
    """The checkpoint a run resumes from.

    Attributes:
        path (str): the checkpoint, inside the run's checkpoint folder.
        iteration (int): the training iteration it was saved at
            (``meta['iter']``).
        notes (tuple[str]): what was done instead of following
            ``last_checkpoint`` as written; empty when it was followed.
    """

    path: str
    iteration: int
    notes: Tuple[str, ...] = ()


def checkpoint_folder(cfg: Config, work_dir: str) -> str:
    """The folder a run's ``CheckpointHook`` saves into.

    Args:
        cfg (Config): the run's config.
        work_dir (str): the run's work folder.

    Returns:
        str: ``<default_hooks.checkpoint.out_dir>/<work_dir's name>`` when the
        hook has an ``out_dir`` (as mmengine does), else ``work_dir``.
    """
    hook = (cfg.get('default_hooks') or {}).get('checkpoint') or {}
    out_dir = hook.get('out_dir')
    if not out_dir:
        return work_dir
    return osp.join(out_dir, osp.basename(osp.normpath(work_dir)))


def _is_inside(path: str, folder: str) -> bool:
    """Whether ``path`` really (after links) lies in ``folder``."""
    real_path, real_folder = osp.realpath(path), osp.realpath(folder)
    return osp.commonpath([real_path, real_folder]) == real_folder


def _training_iteration(path: str) -> int:
    """Loads a checkpoint and returns its ``meta['iter']``.

    Raises:
        ValueError: saying why the file cannot be resumed from.
    """
    try:
        checkpoint = load_local_checkpoint(path, map_location='cpu')
    except (UntrustedCheckpointError, OSError) as error:
        raise ValueError(str(error)) from error
    missing = ([key for key in _RESUME_KEYS if key not in checkpoint]
               if isinstance(checkpoint, dict) else list(_RESUME_KEYS))
    if missing:
        raise ValueError(f'{path} is not a training checkpoint of mmengine '
                         f'(it has no {", ".join(missing)})')
    iteration = checkpoint['meta'].get('iter') if isinstance(
        checkpoint['meta'], dict) else None
    if (not isinstance(iteration, int) or isinstance(iteration, bool)
            or iteration < 0):
        raise ValueError(f"{path} has no valid meta['iter'] (got "
                         f'{iteration!r})')
    return iteration


def _newest_intact(folder: str, skip: str) -> Tuple[Optional[ResumePoint],
                                                     List[str]]:
    """The training checkpoint of ``folder`` with the highest iteration,
    other than ``skip``; and why each other ``.pth`` file was passed over."""
    best, passed_over = None, []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if (not entry.name.endswith('.pth') or not entry.is_file()
                or osp.realpath(entry.path) == osp.realpath(skip)):
            continue
        if not _is_inside(entry.path, folder):
            passed_over.append(f'{entry.path} links out of {folder}')
            continue
        try:
            iteration = _training_iteration(entry.path)
        except ValueError as error:
            passed_over.append(str(error))
            continue
        if best is None or iteration > best.iteration:
            best = ResumePoint(entry.path, iteration)
    return best, passed_over


def _recorded_checkpoint(pointer: str, folder: str) -> Tuple[str, List[str]]:
    """The checkpoint ``pointer`` names, as a path inside ``folder``.

    Returns:
        tuple: the path (it may not exist) and notes on what was done
        instead of following the pointer as written.

    Raises:
        ResumeCheckpointError: if the pointer is empty, or names a file
            outside ``folder`` that has no namesake in ``folder``.
    """
    with open(pointer, encoding='utf-8') as f:
        recorded = f.read().strip()
    start_over = (f'To train from the beginning instead, delete {pointer}.')
    if not recorded:
        raise ResumeCheckpointError(
            f'{pointer} is empty, so the checkpoint to resume from is '
            f'unknown. Write the path of a checkpoint in {folder} into it. '
            f'{start_over}')
    # mmengine writes the path as it was given: maybe relative to the
    # folder the run was started from.
    if _is_inside(recorded, folder):
        return osp.join(folder, osp.relpath(osp.realpath(recorded),
                                            osp.realpath(folder))), []
    namesake = osp.join(folder, osp.basename(recorded))
    if osp.lexists(namesake) and _is_inside(namesake, folder):
        return namesake, [
            f'{pointer} names {recorded}, outside {folder} (a copied or '
            'moved work folder names the original\'s files); using the file '
            f'of that name in {folder}, {namesake}']
    raise ResumeCheckpointError(
        f'{pointer} names {recorded}, which is outside {folder}: the work '
        'folder was probably copied or moved from another one, whose '
        f'checkpoints a run never uses, and {folder} has no '
        f'{osp.basename(recorded)} (or it links out of the folder). Write the '
        f'path of a checkpoint in {folder} into {pointer} to resume from it. '
        f'{start_over}')


def find_resume_checkpoint(work_dir: str,
                           folder: Optional[str] = None
                           ) -> Optional[ResumePoint]:
    """The checkpoint an interrupted run in ``work_dir`` resumes from.

    Args:
        work_dir (str): the run's work folder (holds ``last_checkpoint``).
        folder (str, optional): the folder checkpoints are saved in (see
            :func:`checkpoint_folder`). Defaults to ``work_dir``.

    Returns:
        ResumePoint, optional: None if the run has saved no checkpoint (no
        ``last_checkpoint``).

    Raises:
        ResumeCheckpointError: if no checkpoint of ``folder`` can be used,
            with the reasons and how to fix it.
    """
    folder = folder or work_dir
    pointer = osp.join(work_dir, LAST_CHECKPOINT)
    if not osp.isfile(pointer):
        return None
    path, notes = _recorded_checkpoint(pointer, folder)
    try:
        if not osp.lexists(path):
            raise ValueError(f'{path} does not exist')
        return ResumePoint(path, _training_iteration(path), tuple(notes))
    except ValueError as error:
        reason = str(error)
    newest, passed_over = _newest_intact(folder, skip=path)
    if newest is None:
        others = ''.join(f' {reason}.' for reason in passed_over)
        raise ResumeCheckpointError(
            f'Cannot resume from {path}, the last checkpoint ({pointer}): '
            f'{reason}. {folder} holds no other intact checkpoint to resume '
            f'from.{others} Put back a good copy of {path} to resume, or '
            f'delete {pointer} to train from the beginning.')
    notes.append(
        f'cannot resume from {path}, the last checkpoint: {reason}. Resuming '
        f'from the newest intact checkpoint in {folder} instead, '
        f'{newest.path} (iteration {newest.iteration}).')
    return ResumePoint(newest.path, newest.iteration, tuple(notes))


__all__ = [
    'LAST_CHECKPOINT', 'ResumeCheckpointError', 'ResumePoint',
    'checkpoint_folder', 'find_resume_checkpoint'
]
