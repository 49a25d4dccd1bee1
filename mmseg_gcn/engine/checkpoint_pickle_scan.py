"""Reading a pickle opcode by opcode without executing it.

:func:`scan_pickle` walks one pickle the way torch's restricted unpickler
(``torch._weights_only_unpickler``) would, calling nothing: it lists the
globals the pickle refers to, its persistent ids (tensor storages) and the
calls it makes with their arguments, works out plain values (numbers,
strings, tuples) and leaves everything else opaque. A string the pickle
declares must fit in the bytes that are left, and an opcode the restricted
unpickler does not support is refused, so nothing bigger than the pickle is
read or allocated. :mod:`~mmseg_gcn.engine.checkpoint_file` checks what it
finds against the file.
"""
import pickle
import pickletools
import struct
from dataclasses import dataclass
from typing import Any, BinaryIO, List, Set, Tuple

from torch._utils import IMPORT_MAPPING, NAME_MAPPING


class CheckpointFileError(Exception):
    """The file cannot be loaded as a checkpoint. The message says what the
    file is or what is wrong with it, and what to do; it does not repeat the
    path."""


class Opaque:
    """A value the scan does not work out (a call's result, a list, ...)."""

    def __repr__(self) -> str:
        return '<opaque>'


OPAQUE = Opaque()


@dataclass(frozen=True)
class GlobalRef:
    """A global the pickle looked up."""
    name: str


@dataclass(frozen=True)
class StorageRef:
    """A tensor storage of the file (a persistent id)."""
    pid: Any


class Bytes:
    """bytes made by the pickle (``_codecs.encode``, ``bytes()``): as long
    as a string of the file."""


BYTES = Bytes()
_BYTES_MAKERS = ('_codecs.encode', 'builtins.bytes')
_REBUILD_FROM_TYPE = 'torch._tensor._rebuild_from_type_v2'


@dataclass
class PickleScan:
    value: Any  # the unpickled value, if a plain one (int, str, tuple ...)
    globals: Set[str]
    persistent_ids: List[Any]
    calls: List[Tuple[str, Any]]  # (global called, its arguments)

    def record_call(self, callee: Any, args: Any) -> Any:
        """Notes a call; returns the scan's value of its result.
        ``_rebuild_from_type_v2(func, type, args, state)`` calls ``func``."""
        if not isinstance(callee, GlobalRef):
            return OPAQUE
        self.calls.append((callee.name, args))
        if (callee.name == _REBUILD_FROM_TYPE and isinstance(args, tuple)
                and len(args) == 4):
            self.record_call(args[0], args[2])
        return BYTES if callee.name in _BYTES_MAKERS else OPAQUE


class _PickleScanner:
    """Reads one pickle opcode by opcode, the way torch's restricted
    unpickler (``torch._weights_only_unpickler``) would, without calling
    anything: plain values (numbers, strings, tuples) are worked out, the
    rest is :data:`OPAQUE`."""

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

    def scan(self) -> PickleScan:
        scan = PickleScan(OPAQUE, set(), [], [])
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
                stack.append(GlobalRef(f'{module}.{name}'))
            elif op == pickle.NEWOBJ[0]:
                args, cls = stack.pop(), stack.pop()
                scan.record_call(cls, args)
                stack.append(OPAQUE)
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
                stack.append(OPAQUE)
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
                stack.append(StorageRef(scan.persistent_ids[-1]))
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


def scan_pickle(stream: BinaryIO, end: int) -> PickleScan:
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
