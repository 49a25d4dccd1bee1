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
executing it: it lists the globals the pickles refer to, checks that each
declared string and each tensor storage fits in the bytes the file really
holds, and refuses pickle opcodes that torch's restricted unpickler does not
support. Nothing is called and nothing bigger than the file is allocated.

This is the diagnosis of what the file is; the guard against what its pickle
does is the restricted unpickling that follows
(:mod:`mmseg_gcn.engine.checkpoint`).
"""
import io
import os
import pickle
import pickletools
import stat
import struct
import zipfile
from dataclasses import dataclass
from typing import Any, BinaryIO, FrozenSet, List, Set, Tuple

import torch
from torch._utils import IMPORT_MAPPING, NAME_MAPPING

_ZIP_MAGIC = b'PK\x03\x04'
_TAR_MAGIC_OFFSET = 257


class CheckpointFileError(Exception):
    """The file cannot be loaded as a checkpoint. The message says what the
    file is or what is wrong with it, and what to do; it does not repeat the
    path."""


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


class _Opaque:
    """A value the scan does not work out (a call's result, a list, ...)."""

    def __repr__(self) -> str:
        return '<opaque>'


_OPAQUE = _Opaque()


@dataclass(frozen=True)
class _Global:
    """A global the pickle looked up."""
    name: str


@dataclass(frozen=True)
class _StorageRef:
    """A tensor storage of the file (a persistent id)."""
    pid: Any


class _Bytes:
    """bytes made by the pickle (``_codecs.encode``, ``bytes()``): as long
    as a string of the file."""


_BYTES = _Bytes()
_BYTES_MAKERS = ('_codecs.encode', 'builtins.bytes')
_REBUILD_FROM_TYPE = 'torch._tensor._rebuild_from_type_v2'


@dataclass
class _PickleScan:
    value: Any  # the unpickled value, if a plain one (int, str, tuple ...)
    globals: Set[str]
    persistent_ids: List[Any]
    calls: List[Tuple[str, Any]]  # (global called, its arguments)

    def record_call(self, callee: Any, args: Any) -> Any:
        """Notes a call; returns the scan's value of its result.
        ``_rebuild_from_type_v2(func, type, args, state)`` calls ``func``."""
        if not isinstance(callee, _Global):
            return _OPAQUE
        self.calls.append((callee.name, args))
        if (callee.name == _REBUILD_FROM_TYPE and isinstance(args, tuple)
                and len(args) == 4):
            self.record_call(args[0], args[2])
        return _BYTES if callee.name in _BYTES_MAKERS else _OPAQUE


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


class _PickleScanner:
    """Reads one pickle opcode by opcode, the way torch's restricted
    unpickler (``torch._weights_only_unpickler``) would, without calling
    anything: plain values (numbers, strings, tuples) are worked out, the
    rest is :data:`_OPAQUE`."""

    def __init__(self, stream: BinaryIO, end: int):
        self.stream, self.end = stream, end

    def _read(self, n: int, what: str, declared: bool = False) -> bytes:
        """``n`` bytes of ``what``; ``declared``: ``n`` is a length the pickle
        gives (of a string), which must fit in what is left."""
        offset = self.stream.tell()
        left = self.end - offset
        if n <= left:
            return self.stream.read(n)
        if declared:
            raise CheckpointFileError(
                f'its pickle declares {what} of {n} bytes at offset {offset}, '
                f'but only {left} bytes are left: the file is truncated (or '
                'crafted to make the loader allocate memory); save or '
                'download it again')
        raise CheckpointFileError(
            f'its pickle is cut off at offset {offset}, inside {what}: the '
            'file is truncated; save or download it again')

    def _readline(self) -> str:
        line = self.stream.readline(1024)
        if not line.endswith(b'\n'):
            raise CheckpointFileError(
                'its pickle is cut off inside a global name: the file is '
                'truncated or corrupt; save or download it again')
        return line[:-1].decode('utf-8')

    def scan(self) -> _PickleScan:
        scan = _PickleScan(_OPAQUE, set(), [], [])
        stack: List[Any] = []
        metastack: List[List[Any]] = []
        memo = {}

        def pop_mark() -> List[Any]:
            nonlocal stack
            items, stack = stack, metastack.pop()
            return items

        while True:
            offset = self.stream.tell()
            key = self._read(1, 'an opcode')
            op = key[0]
            if op == pickle.GLOBAL[0]:
                module, name = self._readline(), self._readline()
                if (module, name) in NAME_MAPPING:
                    module, name = NAME_MAPPING[(module, name)]
                elif module in IMPORT_MAPPING:
                    module = IMPORT_MAPPING[module]
                scan.globals.add(f'{module}.{name}')
                stack.append(_Global(f'{module}.{name}'))
            elif op == pickle.NEWOBJ[0]:
                args, cls = stack.pop(), stack.pop()
                scan.record_call(cls, args)
                stack.append(_OPAQUE)
            elif op == pickle.REDUCE[0]:
                args = stack.pop()
                stack[-1] = scan.record_call(stack[-1], args)
            elif op in (pickle.BUILD[0], pickle.APPEND[0]):
                stack.pop()
            elif op == pickle.SETITEM[0]:
                del stack[-2:]
            elif op in (pickle.APPENDS[0], pickle.SETITEMS[0]):
                pop_mark()
            elif op == pickle.MARK[0]:
                metastack.append(stack)
                stack = []
            elif op == pickle.TUPLE[0]:
                items = pop_mark()  # before looking up `stack`
                stack.append(tuple(items))
            elif op in (pickle.TUPLE1[0], pickle.TUPLE2[0], pickle.TUPLE3[0]):
                n = {pickle.TUPLE1[0]: 1, pickle.TUPLE2[0]: 2,
                     pickle.TUPLE3[0]: 3}[op]
                if len(stack) < n:
                    raise IndexError('stack underflow')
                stack[-n:] = [tuple(stack[-n:])]
            elif op == pickle.NONE[0]:
                stack.append(None)
            elif op in (pickle.NEWTRUE[0], pickle.NEWFALSE[0]):
                stack.append(op == pickle.NEWTRUE[0])
            elif op == pickle.EMPTY_TUPLE[0]:
                stack.append(())
            elif op in (pickle.EMPTY_LIST[0], pickle.EMPTY_DICT[0],
                        pickle.EMPTY_SET[0]):
                stack.append(_OPAQUE)
            elif op == pickle.BININT[0]:
                stack.append(struct.unpack('<i', self._read(4, 'an int'))[0])
            elif op == pickle.BININT1[0]:
                stack.append(self._read(1, 'an int')[0])
            elif op == pickle.BININT2[0]:
                stack.append(struct.unpack('<H', self._read(2, 'an int'))[0])
            elif op == pickle.LONG1[0]:
                n = self._read(1, 'an int')[0]
                stack.append(pickle.decode_long(self._read(n, 'an int')))
            elif op == pickle.BINFLOAT[0]:
                stack.append(struct.unpack('>d', self._read(8, 'a float'))[0])
            elif op == pickle.BINUNICODE[0]:
                n = struct.unpack('<I', self._read(4, 'a string'))[0]
                stack.append(str(self._read(n, 'a string', declared=True),
                                 'utf-8', 'surrogatepass'))
            elif op == pickle.SHORT_BINSTRING[0]:
                n = self._read(1, 'a string')[0]
                stack.append(self._read(n, 'a string', declared=True))
            elif op == pickle.BINPERSID[0]:
                scan.persistent_ids.append(stack.pop())
                stack.append(_StorageRef(scan.persistent_ids[-1]))
            elif op in (pickle.BINGET[0], pickle.LONG_BINGET[0]):
                index = (self._read(1, 'a memo index')[0] if op
                         == pickle.BINGET[0] else struct.unpack(
                             '<I', self._read(4, 'a memo index'))[0])
                stack.append(memo[index])
            elif op in (pickle.BINPUT[0], pickle.LONG_BINPUT[0]):
                index = (self._read(1, 'a memo index')[0] if op
                         == pickle.BINPUT[0] else struct.unpack(
                             '<I', self._read(4, 'a memo index'))[0])
                memo[index] = stack[-1]
            elif op == pickle.PROTO[0]:
                self._read(1, 'a protocol number')
            elif op == pickle.STOP[0]:
                scan.value = stack.pop()
                return scan
            else:
                opcode = pickletools.code2op.get(chr(op))
                name = opcode.name if opcode else f'0x{op:02x}'
                raise CheckpointFileError(
                    f'its pickle uses the opcode {name} at offset {offset}, '
                    'which torch.load(weights_only=True) does not support '
                    '(was it saved with pickle_protocol > 2, or is it '
                    'corrupt?)')


def scan_pickle(stream: BinaryIO, end: int) -> _PickleScan:
    """Reads the pickle that starts at the position of ``stream`` (which
    ends at offset ``end``) without executing it.

    Raises:
        CheckpointFileError: if it is truncated, malformed, or uses an opcode
            torch's restricted unpickler does not support.
    """
    try:
        return _PickleScanner(stream, end).scan()
    except (IndexError, KeyError, UnicodeDecodeError,
            struct.error) as error:
        raise CheckpointFileError(
            f'its pickle is malformed ({type(error).__name__}: {error}): the '
            'file is corrupt or was crafted; save or download it again'
        ) from None


def _element_size(storage_type: Any) -> int:
    """Bytes per element of a pickled storage type (a :class:`_Global`)."""
    if isinstance(storage_type, _Global):
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


def _storage_bytes(ref: _StorageRef, fields: int) -> int:
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
            and isinstance(args[0], _StorageRef)):
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
            isinstance(dtype, _Global)) else None
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


def _check_calls(scan: _PickleScan, fields: int) -> None:
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
                               and args[0] is _BYTES)):
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

