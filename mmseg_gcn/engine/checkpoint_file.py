"""Inspecting a checkpoint file before anything in it is unpickled.

``torch.save`` writes one of two formats:

- **zip** (the default since torch 1.6): a zip archive whose ``data.pkl``
  record is the pickle and whose ``data/<key>`` records hold the tensor
  bytes;
- **legacy** (``_use_new_zipfile_serialization=False``): five pickles in a
  row (magic number, protocol version, system info, the object, the storage
  keys), then the tensor bytes.

:func:`open_checkpoint` opens the file without blocking (opening a FIFO named
``x.pth`` for reading would wait for a writer forever), accepts only a regular
file, tells the formats apart and reads every pickle of the file without
executing it (:mod:`~mmseg_gcn.engine.checkpoint_pickle_scan`): it lists the
globals the pickles refer to, checks that each declared string and each
tensor storage fits in the bytes the file really holds, and refuses pickle
opcodes that torch's restricted unpickler does not support. Nothing is
called and nothing bigger than the file is allocated.

This is the diagnosis of what the file is; the guard against what its pickle
does is the restricted unpickling that follows
(:mod:`mmseg_gcn.engine.checkpoint`).
"""
import io
import os
import stat
import zipfile
from dataclasses import dataclass
from typing import Any, BinaryIO, FrozenSet, Set, Tuple

import torch

from .checkpoint_pickle_scan import (BYTES, CheckpointFileError, GlobalRef,
                                     PickleScan, StorageRef, scan_pickle)

_ZIP_MAGIC = b'PK\x03\x04'
_TAR_MAGIC_OFFSET = 257


@dataclass(frozen=True)
class CheckpointFile:
    """An opened, inspected checkpoint file.

    Attributes:
        stream: the file, at offset 0. It has no ``fileno``, so
            ``torch.load`` reads it only through ``read``/``seek`` (it does
            not try torch's pre-0.4 tar format on it).
        format (str): ``'zip'`` or ``'legacy'``.
        globals (frozenset[str]): every global its pickles refer to,
            ``module.name``.
    """
    stream: BinaryIO
    format: str
    globals: FrozenSet[str]


class _FileWithoutFileno(io.RawIOBase):
    """A read-only view of a file that hides its file descriptor."""

    def __init__(self, raw: io.FileIO):
        self._raw = raw

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        return self._raw.readinto(buffer)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def close(self) -> None:
        self._raw.close()
        super().close()


def _file_kind(mode: int) -> str:
    for test, kind in ((stat.S_ISDIR, 'a directory'),
                       (stat.S_ISFIFO, 'a named pipe (FIFO)'),
                       (stat.S_ISSOCK, 'a socket'),
                       (stat.S_ISCHR, 'a character device'),
                       (stat.S_ISBLK, 'a block device')):
        if test(mode):
            return kind
    return 'not a regular file'


def _open_regular_file(path: str) -> Tuple[io.FileIO, int]:
    """Opens ``path`` for reading if it is (or links to) a regular file.

    Returns:
        tuple: the open file and its size.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.islink(path):
            raise FileNotFoundError(
                f'Checkpoint {path!r} is a symbolic link to '
                f'{os.readlink(path)!r}, which does not exist.') from None
        raise FileNotFoundError(
            f'Checkpoint {path!r} does not exist.') from None
    except OSError as error:
        raise CheckpointFileError(
            f'it cannot be read ({error.strerror})') from None
    if not stat.S_ISREG(mode):
        raise CheckpointFileError(
            f'it is {_file_kind(mode)}, not a checkpoint file; give the path '
            'of a checkpoint file (e.g. work_dirs/<run>/iter_<n>.pth)')
    # O_NONBLOCK: should a FIFO take the file's place after the stat, opening
    # it must not wait for a writer; fstat then sees what was opened.
    flags = os.O_RDONLY | getattr(os, 'O_NONBLOCK', 0) | getattr(
        os, 'O_CLOEXEC', 0)
    try:
        fd = os.open(path, flags)
    except OSError as error:
        raise CheckpointFileError(
            f'it cannot be opened ({error.strerror})') from None
    file = io.FileIO(fd, 'rb')
    opened = os.fstat(fd)
    if not stat.S_ISREG(opened.st_mode):
        file.close()
        raise CheckpointFileError(
            f'it is {_file_kind(opened.st_mode)}, not a checkpoint file')
    return file, opened.st_size


def _element_size(storage_type: Any) -> int:
    """Bytes per element of a pickled storage type (a :class:`GlobalRef`)."""
    if isinstance(storage_type, GlobalRef):
        name = storage_type.name.rsplit('.', 1)[-1]
        if name == 'UntypedStorage':
            return 1
        try:
            return torch.serialization.StorageType(name).dtype.itemsize
        except (KeyError, AttributeError):
            pass
    raise CheckpointFileError(
        f'its pickle declares a tensor storage of the unknown type '
        f'{storage_type!r}')


def _declared_storage(pid: Any, fields: int) -> Tuple[Any, int]:
    """(key, bytes) of a storage reference ``('storage', type, key,
    location, numel, ...)`` of ``fields`` fields."""
    if (not isinstance(pid, tuple) or len(pid) != fields
            or pid[0] not in ('storage', b'storage')
            or type(pid[4]) is not int or pid[4] < 0):
        raise CheckpointFileError(
            f'its pickle holds the malformed tensor storage reference {pid!r}')
    return pid[2], pid[4] * _element_size(pid[1])


#: torch's tensor constructors over a storage of the file:
#: ``f(storage, offset, size, stride, ...)``.
_TENSOR_VIEWS = frozenset([
    'torch._utils._rebuild_tensor', 'torch._utils._rebuild_tensor_v2',
    'torch._utils._rebuild_tensor_v3', 'torch._utils._rebuild_qtensor'
])


def _allocating_constructors() -> Set[str]:
    """Globals torch's restricted unpickler allows that allocate memory of a
    size given as an argument (``torch.Tensor(n)``, ``torch.FloatTensor(n)``,
    ``torch.storage.UntypedStorage(n)``). ``torch.save`` never calls them:
    its tensors and storages come from the file's storages."""
    from torch import _weights_only_unpickler as unpickler
    constructors = set()
    for name, obj in unpickler._get_allowed_globals().items():
        if obj is torch.Tensor or obj in torch._tensor_classes or (
                isinstance(obj, type) and issubclass(
                    obj, (torch.UntypedStorage, torch.storage.TypedStorage))):
            constructors.add(name)
    return constructors


def _is_count(value: Any) -> bool:
    return type(value) is int and value >= 0


def _storage_bytes(ref: StorageRef, fields: int) -> int:
    """The bytes a tensor sees of a storage of the file (a legacy storage
    view: its part)."""
    _, nbytes = _declared_storage(ref.pid, fields)
    view = ref.pid[5] if fields == 6 else None
    if view is not None:
        nbytes = view[2] * _element_size(ref.pid[1])
    return nbytes


def _check_tensor_view(name: str, args: Any, fields: int) -> None:
    """A tensor of ``size``/``stride`` from ``offset`` must lie inside its
    storage: otherwise torch grows the storage to fit, allocating what the
    file declares."""
    if not (isinstance(args, tuple) and len(args) >= 4
            and isinstance(args[0], StorageRef)):
        raise CheckpointFileError(
            f'its pickle calls {name} without a tensor storage of the file')
    storage, offset, shape, stride = args[:4]
    if not (_is_count(offset) and isinstance(shape, tuple)
            and isinstance(stride, tuple) and len(shape) == len(stride)
            and all(map(_is_count, shape + stride))):
        raise CheckpointFileError(
            f'its pickle declares a tensor of shape {shape!r}, stride '
            f'{stride!r} and offset {offset!r}, not plain integers')
    itemsize = _element_size(storage.pid[1])
    if name.endswith('_v3'):  # (..., dtype, metadata): the tensor's dtype
        dtype = args[6] if len(args) > 6 else None
        dtype = getattr(torch, dtype.name.rsplit('.', 1)[-1], None) if (
            isinstance(dtype, GlobalRef)) else None
        if not isinstance(dtype, torch.dtype):
            raise CheckpointFileError(
                f'its pickle calls {name} with the dtype {args[6:7]!r}')
        itemsize = dtype.itemsize
    extent = 0 if 0 in shape else offset + 1 + sum(
        (n - 1) * step for n, step in zip(shape, stride))
    available = _storage_bytes(storage, fields)
    if extent * itemsize > available:
        raise CheckpointFileError(
            f'its pickle declares a tensor of shape {shape} (stride {stride}, '
            f'offset {offset}) that needs {extent * itemsize} bytes, over a '
            f'storage of {available} bytes: the file is corrupt, or crafted '
            'to make the loader allocate memory it does not hold')


def _check_calls(scan: PickleScan, fields: int) -> None:
    """Refuses calls ``torch.save`` never writes that would allocate memory
    of a size the file declares (see :func:`_allocating_constructors`,
    :func:`_check_tensor_view`; ``bytearray(n)`` zeroes ``n`` bytes)."""
    allocating = _allocating_constructors()
    for name, args in scan.calls:
        if name in allocating:
            raise CheckpointFileError(
                f'its pickle calls {name}(...) itself, which torch.save never '
                'does; it would allocate memory of any size the file declares')
        if name == 'builtins.bytearray' and not (
                args == () or (isinstance(args, tuple) and len(args) == 1
                               and args[0] is BYTES)):
            raise CheckpointFileError(
                f'its pickle calls bytearray with {args!r} instead of bytes; '
                'bytearray(n) allocates n bytes')
        if name in _TENSOR_VIEWS:
            _check_tensor_view(name, args, fields)


def _inspect_zip(stream: BinaryIO, size: int) -> Set[str]:
    try:
        archive = zipfile.ZipFile(stream)
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError,
            ValueError) as error:
        raise CheckpointFileError(
            f'it is an unreadable zip archive ({error}): the file is '
            'truncated or corrupt; save or download it again') from None
    if not infos:
        raise CheckpointFileError('it is an empty zip archive, not a '
                                  'checkpoint')
    for info in infos:
        if info.compress_type != zipfile.ZIP_STORED:
            raise CheckpointFileError(
                f'its record {info.filename} is compressed; torch.save never '
                'compresses, and a compressed record can unpack to far more '
                'data than the file holds')
        if info.header_offset + info.file_size > size:
            raise CheckpointFileError(
                f'its record {info.filename} ends past the end of the file: '
                'the file is truncated; save or download it again')
    # torch's reader takes the folder of the first record as the archive's
    prefix = infos[0].filename.split('/', 1)[0]
    records = {info.filename: info.file_size for info in infos}
    if f'{prefix}/constants.pkl' in records:
        raise CheckpointFileError(
            'it is a TorchScript archive (torch.jit.save), not a checkpoint; '
            'TorchScript runs code, so load it with torch.jit.load only if '
            'you trust it')
    if f'{prefix}/data.pkl' not in records:
        raise CheckpointFileError(
            f'it is a zip archive without {prefix}/data.pkl, not a torch '
            'checkpoint')
    try:
        data = archive.read(f'{prefix}/data.pkl')
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as error:
        raise CheckpointFileError(
            f'its data.pkl cannot be read ({error}): the file is truncated or '
            'corrupt; save or download it again') from None
    scan = scan_pickle(io.BytesIO(data), len(data))
    for pid in scan.persistent_ids:
        key, nbytes = _declared_storage(pid, 5)
        record = f'{prefix}/data/{key}'
        if records.get(record) != nbytes:
            raise CheckpointFileError(
                f'its pickle declares a tensor storage of {nbytes} bytes in '
                f'{record}, which holds {records.get(record, "no")} bytes: '
                'the file is corrupt or crafted; save or download it again')
    _check_calls(scan, 5)
    return scan.globals


def _inspect_legacy(stream: BinaryIO, size: int) -> Set[str]:
    magic = scan_pickle(stream, size)
    if magic.value != torch.serialization.MAGIC_NUMBER:
        raise CheckpointFileError(
            'it is a pickle, but not one written by torch.save (no torch '
            'magic number); a plain pickle can run any code, so it is not '
            'loaded')
    version = scan_pickle(stream, size)
    if version.value != torch.serialization.PROTOCOL_VERSION:
        raise CheckpointFileError(
            f'it was written with the torch serialization protocol '
            f'{version.value!r}, which this torch does not read')
    sys_info = scan_pickle(stream, size)
    main = scan_pickle(stream, size)
    keys = scan_pickle(stream, size)
    declared = {}
    for pid in main.persistent_ids:
        key, nbytes = _declared_storage(pid, 6)
        view = pid[5]
        if view is not None and not (
                isinstance(view, tuple) and len(view) == 3
                and all(type(n) is int and n >= 0 for n in view[1:])
                and view[1] + view[2] <= pid[4]):
            raise CheckpointFileError(
                f'its pickle holds the malformed storage view {view!r}')
        if declared.setdefault(key, nbytes) != nbytes:
            raise CheckpointFileError(
                f'its pickle declares the tensor storage {key!r} with two '
                'different sizes: the file is corrupt or crafted')
    total = sum(declared.values())
    left = size - stream.tell()
    if total > left:
        raise CheckpointFileError(
            f'its pickle declares {total} bytes of tensor data, but only '
            f'{left} bytes follow it: the file is truncated (or crafted to '
            'make the loader allocate memory it does not hold); save or '
            'download it again')
    scans = (magic, version, sys_info, main, keys)
    for scan in scans:
        _check_calls(scan, 6)
    return set().union(*(scan.globals for scan in scans))


def _not_a_checkpoint(head: bytes) -> CheckpointFileError:
    if len(head) >= 10 and head[8:10] == b'{"':
        what = 'a safetensors file, not a torch checkpoint'
    elif len(head) > _TAR_MAGIC_OFFSET + 5 and head[
            _TAR_MAGIC_OFFSET:_TAR_MAGIC_OFFSET + 5] == b'ustar':
        what = ('a tar archive: the checkpoint format of torch < 0.4, which '
                'cannot be inspected safely; if you trust it, load it with '
                'that torch and save it again')
    else:
        what = f'not a torch checkpoint (it starts with {head[:16]!r})'
    return CheckpointFileError(f'it is {what}')


def open_checkpoint(path: str) -> CheckpointFile:
    """Opens and inspects a checkpoint file (see the module docstring).

    The caller closes ``stream`` of the result.

    Args:
        path (str): the file.

    Returns:
        CheckpointFile: the opened file, its format and the globals its
        pickles refer to.

    Raises:
        FileNotFoundError: if nothing exists at ``path``.
        CheckpointFileError: if it is not a regular file, is empty, truncated
            or corrupt, or not in a format ``torch.load(weights_only=True)``
            reads.
    """
    raw, size = _open_regular_file(path)
    stream = io.BufferedReader(_FileWithoutFileno(raw))
    try:
        if size == 0:
            raise CheckpointFileError(
                'it is empty (0 bytes): saving or downloading it was '
                'interrupted; save or download it again')
        head = stream.read(_TAR_MAGIC_OFFSET + 8)
        stream.seek(0)
        if head.startswith(_ZIP_MAGIC):
            format, names = 'zip', _inspect_zip(stream, size)
        elif head.startswith(b'\x80'):  # a pickle: the legacy magic number?
            format, names = 'legacy', _inspect_legacy(stream, size)
        else:
            raise _not_a_checkpoint(head)
        stream.seek(0)
        return CheckpointFile(stream, format, frozenset(names))
    except BaseException:
        stream.close()
        raise

