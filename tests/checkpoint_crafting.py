"""Writing hostile checkpoints by hand: pickles opcode by opcode, in torch's
zip or legacy file format.

A pickle is described as a tree of Python values and the nodes below, and
:func:`dumps` turns it into protocol-2 opcodes, the way ``torch.save`` writes
them: ``Call(Global('os', 'system'), 'touch x')`` is ``GLOBAL os system``,
the argument tuple, ``REDUCE``.
"""
import io
import pickle
import struct
import zipfile
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

import torch

#: The first pickle of a legacy-format torch file.
LEGACY_MAGIC_NUMBER = 0x1950a86a20f9469cfc6c
LEGACY_PROTOCOL_VERSION = 1001
LEGACY_SYS_INFO = dict(protocol_version=LEGACY_PROTOCOL_VERSION,
                       little_endian=True,
                       type_sizes=dict(short=2, int=4, long=4))


@dataclass(frozen=True)
class Global:
    """``GLOBAL module name``: the object the unpickler looks up."""
    module: str
    name: str


class Call:
    """``func(*args)``: ``REDUCE``."""

    def __init__(self, func: Any, *args: Any):
        self.func, self.args = func, args


class New:
    """``cls.__new__(cls, *args)``: ``NEWOBJ``."""

    def __init__(self, cls: Any, *args: Any):
        self.cls, self.args = cls, args


@dataclass
class Build:
    """``obj`` followed by ``BUILD`` with ``state`` (``__setstate__``)."""
    obj: Any
    state: Any


@dataclass
class Put:
    """``value``, remembered (``BINPUT``) under ``key`` for :class:`Get`."""
    key: str
    value: Any


@dataclass
class Get:
    """The value remembered under ``key`` (``BINGET``)."""
    key: str


@dataclass
class PersistentId:
    """``BINPERSID``: a storage reference, as ``torch.save`` writes it."""
    pid: Tuple


@dataclass
class Raw:
    """Opcodes written as given."""
    opcodes: bytes


def latin1_bytes(data: bytes) -> Call:
    """``bytes`` the way protocol 2 pickles them: ``_codecs.encode(str,
    'latin1')``."""
    return Call(Global('_codecs', 'encode'), data.decode('latin1'), 'latin1')


class _Writer:

    def __init__(self):
        self.out = io.BytesIO()
        self.memo: Dict[str, int] = {}

    def write(self, node: Any) -> None:
        w = self.out.write
        if node is None:
            w(pickle.NONE)
        elif node is True or node is False:
            w(pickle.NEWTRUE if node else pickle.NEWFALSE)
        elif isinstance(node, int):
            if 0 <= node < 256:
                w(pickle.BININT1 + bytes([node]))
            elif -2**31 <= node < 2**31:
                w(pickle.BININT + struct.pack('<i', node))
            else:
                data = node.to_bytes((node.bit_length() + 8) // 8, 'little',
                                     signed=True)
                w(pickle.LONG1 + bytes([len(data)]) + data)
        elif isinstance(node, float):
            w(pickle.BINFLOAT + struct.pack('>d', node))
        elif isinstance(node, str):
            data = node.encode('utf-8', 'surrogatepass')
            w(pickle.BINUNICODE + struct.pack('<I', len(data)) + data)
        elif isinstance(node, bytes):
            self.write(latin1_bytes(node))
        elif isinstance(node, tuple):
            w(pickle.MARK)
            for item in node:
                self.write(item)
            w(pickle.TUPLE)
        elif isinstance(node, list):
            w(pickle.EMPTY_LIST)
            if node:
                w(pickle.MARK)
                for item in node:
                    self.write(item)
                w(pickle.APPENDS)
        elif isinstance(node, dict):
            w(pickle.EMPTY_DICT)
            if node:
                w(pickle.MARK)
                for key, value in node.items():
                    self.write(key)
                    self.write(value)
                w(pickle.SETITEMS)
        elif isinstance(node, Global):
            w(pickle.GLOBAL + f'{node.module}\n{node.name}\n'.encode())
        elif isinstance(node, Call):
            self.write(node.func)
            self.write(tuple(node.args))
            w(pickle.REDUCE)
        elif isinstance(node, New):
            self.write(node.cls)
            self.write(tuple(node.args))
            w(pickle.NEWOBJ)
        elif isinstance(node, Build):
            self.write(node.obj)
            self.write(node.state)
            w(pickle.BUILD)
        elif isinstance(node, Put):
            self.write(node.value)
            self.memo[node.key] = len(self.memo)
            w(pickle.LONG_BINPUT + struct.pack('<I', self.memo[node.key]))
        elif isinstance(node, Get):
            w(pickle.LONG_BINGET + struct.pack('<I', self.memo[node.key]))
        elif isinstance(node, PersistentId):
            self.write(node.pid)
            w(pickle.BINPERSID)
        elif isinstance(node, Raw):
            w(node.opcodes)
        else:
            raise TypeError(f'cannot write {node!r}')


def dumps(node: Any) -> bytes:
    """The protocol-2 pickle of ``node`` (see the module docstring)."""
    writer = _Writer()
    writer.out.write(pickle.PROTO + b'\x02')
    writer.write(node)
    writer.out.write(pickle.STOP)
    return writer.out.getvalue()


def write_zip_checkpoint(path, data_pkl: bytes,
                         records: Optional[Dict[str, bytes]] = None,
                         compression: int = zipfile.ZIP_STORED) -> None:
    """A checkpoint in torch's zip format whose ``data.pkl`` is ``data_pkl``
    and whose tensor records (``data/<key>``) are ``records``."""
    with zipfile.ZipFile(path, 'w', compression) as archive:
        archive.writestr('archive/data.pkl', data_pkl)
        archive.writestr('archive/byteorder', 'little')
        for key, data in (records or {}).items():
            archive.writestr(f'archive/data/{key}', data)
        archive.writestr('archive/version', '3\n')


def write_legacy_checkpoint(path, main_pickle: bytes,
                            storages: Optional[Dict[str, bytes]] = None,
                            element_size: int = 4) -> None:
    """A checkpoint in torch's legacy format (``_use_new_zipfile_
    serialization=False``) whose object pickle is ``main_pickle``, followed
    by the bytes of ``storages`` (key: raw bytes of ``element_size``-byte
    elements)."""
    storages = storages or {}
    with open(path, 'wb') as f:
        for value in (LEGACY_MAGIC_NUMBER, LEGACY_PROTOCOL_VERSION,
                      LEGACY_SYS_INFO):
            pickle.dump(value, f, protocol=2)
        f.write(main_pickle)
        pickle.dump(list(storages), f, protocol=2)
        for data in storages.values():
            f.write(struct.pack('<q', len(data) // element_size))
            f.write(data)


def storage_tensor(key: str, values: list, legacy: bool = False) -> Call:
    """A float32 tensor over the storage ``key`` (``_rebuild_tensor_v2``);
    its bytes go into the file's records/storages."""
    storage = ('storage', Global('torch', 'FloatStorage'), key, 'cpu',
               len(values)) + ((None, ) if legacy else ())
    return Call(Global('torch._utils', '_rebuild_tensor_v2'),
                PersistentId(storage), 0, (len(values), ), (1, ), False,
                Call(Global('collections', 'OrderedDict')))


def float32_bytes(values: list) -> bytes:
    return torch.tensor(values, dtype=torch.float32).numpy().tobytes()


# Globals the crafted checkpoints refer to.
HISTORY_BUFFER = Global('mmengine.logging.history_buffer', 'HistoryBuffer')
GETATTR = Global('__builtin__', 'getattr')
RECONSTRUCT = Global('numpy._core.multiarray', '_reconstruct')
RECONSTRUCT_NUMPY1 = Global('numpy.core.multiarray', '_reconstruct')
SCALAR = Global('numpy._core.multiarray', 'scalar')
NDARRAY = Global('numpy', 'ndarray')
DTYPE = Global('numpy', 'dtype')
REBUILD_FROM_TYPE = Global('torch._tensor', '_rebuild_from_type_v2')
