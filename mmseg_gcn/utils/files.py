"""Writing a file so that a crash, a kill or a full disk never leaves a
half-written file under its name."""
import json
import os
import os.path as osp
from typing import Any, Callable, Optional

#: How the temporary file of :func:`atomic_write` ends: ``<path>.<pid>.tmp``.
#: A file with this ending is never complete; one left by a killed process
#: can be deleted.
TMP_SUFFIX = '.tmp'


def _fsync_folder(folder: str) -> None:
    """Makes a rename in ``folder`` durable (where the OS allows it)."""
    try:
        fd = os.open(folder or '.', os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: str, write: Callable[[str], Any],
                 fsync: bool = True) -> None:
    """Writes ``path`` through a temporary file in the same folder.

    ``write(tmp)`` writes the content to the temporary path; the file is then
    flushed to disk (``fsync``) and renamed onto ``path``. ``path`` therefore
    is either what it was before or complete, never partial; on any failure
    the temporary file is removed and the error is raised.

    Args:
        path (str): The file to write.
        write (callable): Writes the content to the path it is given.
        fsync (bool): Flush the file and the rename to disk. Defaults to True.
    """
    tmp = f'{path}.{os.getpid()}{TMP_SUFFIX}'
    try:
        write(tmp)
        if fsync:
            with open(tmp, 'rb') as f:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if osp.lexists(tmp):
            os.remove(tmp)
    if fsync:
        _fsync_folder(osp.dirname(path))


def write_json_atomically(path: str, data: Any,
                          indent: Optional[int] = 2) -> None:
    """Writes ``data`` as JSON (with a final newline) with
    :func:`atomic_write`.

    Args:
        path (str): The JSON file.
        data: What :func:`json.dump` can write.
        indent (int, optional): JSON indentation. Defaults to 2.
    """

    def write(tmp: str) -> None:
        with open(tmp, 'w', encoding='utf-8') as f:
            json.dump(data, f, indent=indent)
            f.write('\n')

    atomic_write(path, write)
