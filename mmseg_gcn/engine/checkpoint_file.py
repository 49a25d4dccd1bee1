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
    name: str


@dataclass
class _PickleScan:
    value: Any  # the unpickled value, if a plain one (int, str, tuple ...)
    globals: Set[str]
    persistent_ids: List[Any]


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

    def _read(self, n: int, what: str) -> bytes:
        left = self.end - self.stream.tell()
        if n > left:
            raise CheckpointFileError(
                f'its pickle declares {what} of {n} bytes at offset '
                f'{self.stream.tell()}, but only {left} bytes are left: the '
                'file is truncated (or crafted to make the loader allocate '
                'memory); save or download it again')
        return self.stream.read(n)

    def _readline(self) -> str:
        line = self.stream.readline(1024)
        if not line.endswith(b'\n'):
            raise CheckpointFileError(
                'its pickle is cut off inside a global name: the file is '
                'truncated or corrupt; save or download it again')
        return line[:-1].decode('utf-8')

    def scan(self) -> _PickleScan:
        scan = _PickleScan(_OPAQUE, set(), [])
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
                del stack[-2:]
                stack.append(_OPAQUE)
            elif op == pickle.REDUCE[0]:
                stack.pop()
                stack[-1] = _OPAQUE
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
                stack.append(str(self._read(n, 'a string'), 'utf-8',
                                 'surrogatepass'))
            elif op == pickle.SHORT_BINSTRING[0]:
                n = self._read(1, 'a string')[0]
                stack.append(self._read(n, 'a string'))
            elif op == pickle.BINPERSID[0]:
                scan.persistent_ids.append(stack.pop())
                stack.append(_OPAQUE)
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
    return set().union(*(scan.globals
                         for scan in (magic, version, sys_info, main, keys)))


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

