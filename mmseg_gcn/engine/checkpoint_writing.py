"""Writing a checkpoint file so that a failed or killed write never costs a
checkpoint that was saved before.

A checkpoint is written to a temporary file in its folder
(``<path>.<pid>.tmp``, see :func:`mmseg_gcn.utils.atomic_write`), flushed to
disk and renamed onto its name: the file of that name is always either the
previous one or the complete new one. A write that fails (a full disk, a
quota, a read-only folder) removes the temporary file and raises
:class:`CheckpointWriteError`, whose message is the one line a tool prints::

    could not write checkpoint work_dirs/x/iter_2.pth: no space left on device
    (3.1 MiB needed, 1.0 MiB free on /mnt/scratch)

In a multi-process run only rank 0 writes; :func:`on_main_process` lets every
rank learn whether the write succeeded, so that all of them stop with the
error instead of waiting for rank 0 until the run's timeout.
"""
import errno
import io
import os
import os.path as osp
import shutil
from typing import Any, Callable, Optional

import torch
from mmengine.dist import broadcast_object_list, get_rank, is_distributed

from ..utils.files import TMP_SUFFIX, atomic_write


class CheckpointWriteError(RuntimeError):
    """A checkpoint could not be written; the message names the file, the
    operating system's reason and, for a full disk, the space needed and
    free."""


def _size(nbytes: float) -> str:
    for unit in ('B', 'KiB', 'MiB', 'GiB'):
        if nbytes < 1024 or unit == 'GiB':
            return f'{nbytes:.0f} {unit}' if unit == 'B' else \
                f'{nbytes:.1f} {unit}'
        nbytes /= 1024
    raise AssertionError('unreachable')


def _mount_point(path: str) -> str:
    path = osp.realpath(path)
    while not osp.ismount(path):
        path = osp.dirname(path)
    return path


class _CountingFile:
    """A write-only file that only counts the bytes written to it."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, data) -> int:
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass


def serialized_size(obj: Any) -> int:
    """The number of bytes ``torch.save(obj)`` writes, without writing them.

    Args:
        obj: what is saved.

    Returns:
        int: the size of the file it would make.
    """
    counter = _CountingFile()
    torch.save(obj, counter)
    return counter.size


def describe_write_failure(path: str, error: OSError,
                           needed: Optional[int] = None) -> str:
    """The one-line message of a checkpoint that could not be written.

    Args:
        path (str): the checkpoint.
        error (OSError): why the write failed.
        needed (int, optional): bytes the checkpoint needs, for a full disk.

    Returns:
        str: ``could not write checkpoint <path>: <reason>``, with the space
        needed and free for a full disk or quota.
    """
    reason = (os.strerror(error.errno) if error.errno else str(error))
    reason = reason[:1].lower() + reason[1:]
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        folder = osp.dirname(osp.abspath(path))
        try:
            free = _size(shutil.disk_usage(folder).free)
            where = f'{free} free on {_mount_point(folder)}'
        except OSError:
            where = 'free space unknown'
        needs = f'{_size(needed)} needed, ' if needed is not None else ''
        reason = f'{reason} ({needs}{where})'
    return f'could not write checkpoint {path}: {reason}'


def write_checkpoint_file(path: str, write: Callable[[str], Any],
                          needed: Optional[Callable[[], int]] = None) -> None:
    """Writes a checkpoint atomically (:func:`mmseg_gcn.utils.atomic_write`).

    Args:
        path (str): the checkpoint to write.
        write (callable): writes the content to the temporary path it is
            given.
        needed (callable, optional): returns the bytes the checkpoint
            needs, asked only if the disk is full.

    Raises:
        CheckpointWriteError: if the write failed; ``path`` is as it was and
            the temporary file is removed.
    """
    try:
        atomic_write(path, write)
    except OSError as error:
        size = None
        if needed is not None and error.errno in (errno.ENOSPC,
                                                  errno.EDQUOT):
            size = needed()
        raise CheckpointWriteError(describe_write_failure(
            path, error, size)) from error


def save_atomically(obj: Any, path: str) -> None:
    """``torch.save(obj, path)``, written atomically.

    Serialized in memory first, as mmengine saves checkpoints: torch's own
    file writer reports a failed write as a RuntimeError without its reason.

    Raises:
        CheckpointWriteError: if the write failed.
    """
    with io.BytesIO() as buffer:
        torch.save(obj, buffer)
        data = buffer.getvalue()

    def write(tmp: str) -> None:
        with open(tmp, 'wb') as f:
            f.write(data)

    write_checkpoint_file(path, write, needed=lambda: len(data))


def on_main_process(action: Callable[[], Any]) -> Any:
    """Runs ``action`` on rank 0 only and tells every rank how it went.

    Args:
        action (callable): what rank 0 does (e.g. write a checkpoint).

    Returns:
        what ``action`` returned, on rank 0; None on the other ranks.

    Raises:
        CheckpointWriteError: on every rank if ``action`` raised it on rank 0
            (on the other ranks with ``(on process 0)`` added).
    """
    result, failure = None, None
    if get_rank() == 0:
        try:
            result = action()
        except CheckpointWriteError as error:
            failure = error
    if is_distributed():
        holder = [None if failure is None else str(failure)]
        broadcast_object_list(holder, src=0)
        if holder[0] is not None and failure is None:
            raise CheckpointWriteError(f'{holder[0]} (on process 0)')
    if failure is not None:
        raise failure
    return result


def remove_stale_temp_files(folder: str) -> list:
    """Removes the temporary checkpoint files (``*.pth.<pid>.tmp``) a killed
    process left in ``folder``; they are never complete.

    Args:
        folder (str): a checkpoint folder.

    Returns:
        list[str]: the files removed.
    """
    removed = []
    if not osp.isdir(folder):
        return removed
    own = f'.{os.getpid()}{TMP_SUFFIX}'
    for entry in os.scandir(folder):
        stem, _, pid = entry.name[:-len(TMP_SUFFIX)].rpartition('.')
        if (entry.name.endswith(TMP_SUFFIX) and pid.isdigit()
                and stem.endswith('.pth') and not entry.name.endswith(own)
                and entry.is_file(follow_symlinks=False)):
            os.remove(entry.path)
            removed.append(entry.path)
    return removed


__all__ = [
    'CheckpointWriteError', 'describe_write_failure', 'on_main_process',
    'remove_stale_temp_files', 'save_atomically', 'serialized_size',
    'write_checkpoint_file'
]
