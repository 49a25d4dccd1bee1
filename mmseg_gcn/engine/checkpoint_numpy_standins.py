"""Checked stand-ins for the numpy globals of a checkpoint.

An mmengine checkpoint pickles numpy arrays, dtypes and scalars (inside
mmengine's ``HistoryBuffer`` and in the logged values). Allow-listed for
torch's restricted unpickler, the real numpy objects could be called with any
arguments: ``numpy.ndarray((4,), 'O', b'A' * 32)`` is an array of objects over
forged pointers, and ``_reconstruct`` followed by BUILD with an object dtype
(or BUILD of a dtype copy with the flags of one) makes an object array of
whatever the pickle lists. The stand-ins of this module take their names
(see :data:`~mmseg_gcn.engine.checkpoint_standins.STAND_INS`) and accept only
numeric dtypes from a fixed list with a byte order and nothing else, and raw
bytes of exactly the size the shape and dtype need.
"""
import math
from typing import Any, Tuple

import numpy as np


class CheckpointContentError(ValueError):
    """A checkpoint holds something an mmengine checkpoint never does.

    Not a :class:`pickle.UnpicklingError`, so ``torch.load`` passes it on
    unchanged instead of wrapping it in its own advice."""


#: The numpy dtypes a checkpoint may hold (``dtype.str`` without the byte
#: order): booleans and numbers. No object, string, void or datetime dtypes.
NUMERIC_DTYPES = frozenset([
    'b1', 'i1', 'i2', 'i4', 'i8', 'u1', 'u2', 'u4', 'u8', 'f2', 'f4', 'f8',
    'c8', 'c16'
])
#: The most dimensions a checkpoint's array may have.
MAX_NDIM = 32
# numpy writes the state of a plain dtype as (3, byte order, *this)
_PLAIN_DTYPE_STATE = (None, None, None, -1, -1, 0)


def is_int(value: Any) -> bool:
    """Whether ``value`` is a plain ``int`` (not a bool, not a subclass)."""
    return type(value) is int


def describe(value: Any) -> str:
    """A short description of a value from the pickle, for messages (a
    stand-in by the name it is loaded under)."""
    from .checkpoint_standins import STAND_INS  # which imports this module
    for stand_in, name in STAND_INS:
        if value is stand_in:
            return name
    if isinstance(value, (str, bytes, int, float, type(None))):
        text = repr(value)
        return text if len(text) <= 80 else text[:77] + '...'
    return f'a {type(value).__name__} object'


class DtypeStandIn:
    """Stands in for ``numpy.dtype``.

    numpy pickles a dtype as ``numpy.dtype('f8', False, True)`` followed by
    BUILD with ``(3, '<', None, None, None, -1, -1, 0)``; this accepts exactly
    that, for the dtypes of :data:`NUMERIC_DTYPES`, the byte order being the
    only thing the state may change.
    """
    __slots__ = ('_dtype', )

    def __init__(self, name: Any = None, align: Any = False,
                 copy: Any = True):
        if (not isinstance(name, str) or name not in NUMERIC_DTYPES
                or align is not False or copy is not True):
            raise CheckpointContentError(
                f'the checkpoint asks for the numpy dtype {describe(name)}; '
                'a checkpoint may hold only the numeric dtypes '
                f'{", ".join(sorted(NUMERIC_DTYPES))} (no object, string or '
                'structured dtypes)')
        self._dtype = np.dtype(name)

    @property
    def dtype(self) -> np.dtype:
        """The dtype, once built."""
        try:
            return self._dtype
        except AttributeError:
            raise CheckpointContentError(
                'the checkpoint uses a numpy dtype it never built') from None

    def __setstate__(self, state: Any) -> None:
        dtype = self.dtype
        if (not isinstance(state, tuple) or len(state) != 8
                or not is_int(state[0]) or state[0] != 3
                or not all(a is b or (is_int(a) and a == b)
                           for a, b in zip(state[2:], _PLAIN_DTYPE_STATE))):
            raise CheckpointContentError(
                f'the state of the numpy dtype {dtype} in the checkpoint is '
                'not that of a plain numeric dtype (it may only set the byte '
                'order; numpy writes (3, "<", None, None, None, -1, -1, 0))')
        byteorder = state[1]
        allowed = ('|', ) if dtype.itemsize == 1 else ('<', '>')
        if not isinstance(byteorder, str) or byteorder not in allowed:
            raise CheckpointContentError(
                f'the numpy dtype {dtype} in the checkpoint has the byte order '
                f'{describe(byteorder)}; it can only be one of {allowed}')
        if byteorder != '|':
            self._dtype = dtype.newbyteorder(byteorder)

    def __repr__(self) -> str:
        return f'DtypeStandIn({getattr(self, "_dtype", None)!r})'

    def __reduce_ex__(self, protocol: int) -> Any:
        # saved (or deep-copied) as the dtype it stands for
        return self.dtype.__reduce_ex__(protocol)


def _checked_shape(shape: Any) -> Tuple[int, ...]:
    if (not isinstance(shape, tuple) or len(shape) > MAX_NDIM
            or not all(is_int(n) and n >= 0 for n in shape)):
        raise CheckpointContentError(
            f'an array of the checkpoint has the shape {describe(shape)}; a '
            f'shape is a tuple of at most {MAX_NDIM} non-negative integers')
    return shape


class ArrayStandIn:
    """Stands in for ``numpy.ndarray``.

    numpy pickles an array as ``_reconstruct(ndarray, (0,), b'b')`` followed
    by BUILD with ``(1, shape, dtype, fortran_order, raw_bytes)``. The state
    must have a :class:`DtypeStandIn` dtype and exactly as many raw bytes as
    the shape and dtype need (the bytes are in the file already, so a huge
    declared shape allocates nothing); an object array, which numpy pickles
    with a list instead of bytes, cannot be built.
    """
    __slots__ = ('_array', )

    def __init__(self, *args: Any):
        if args:
            raise CheckpointContentError(
                'the checkpoint calls numpy.ndarray(...) directly, which numpy '
                'never pickles; it could build an array of objects over forged '
                'pointers')

    @property
    def array(self) -> np.ndarray:
        """The array, once built."""
        try:
            return self._array
        except AttributeError:
            raise CheckpointContentError(
                'the checkpoint holds a numpy array it never built') from None

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, tuple) or len(state) != 5:
            raise CheckpointContentError(
                f'the state of a numpy array in the checkpoint is '
                f'{describe(state)}, not (1, shape, dtype, fortran_order, '
                'raw_bytes)')
        version, shape, dtype, fortran_order, data = state
        if not is_int(version) or version != 1:
            raise CheckpointContentError(
                f'a numpy array of the checkpoint has the pickle version '
                f'{describe(version)}; numpy writes 1')
        if not isinstance(dtype, DtypeStandIn):
            raise CheckpointContentError(
                f'a numpy array of the checkpoint has the dtype '
                f'{describe(dtype)}, not a numpy dtype of the checkpoint')
        dtype = dtype.dtype
        shape = _checked_shape(shape)
        if type(fortran_order) is not bool:
            raise CheckpointContentError(
                'a numpy array of the checkpoint has the memory order '
                f'{describe(fortran_order)}, not True or False')
        if type(data) not in (bytes, bytearray):
            raise CheckpointContentError(
                f'a numpy array of the checkpoint holds {describe(data)} '
                'instead of raw bytes (numpy pickles object arrays that way)')
        size = math.prod(shape) * dtype.itemsize
        if len(data) != size:
            raise CheckpointContentError(
                f'a numpy array of the checkpoint declares the shape {shape} '
                f'and dtype {dtype}, which need {size} bytes, but holds '
                f'{len(data)} bytes')
        flat = np.frombuffer(bytes(data), dtype=dtype)
        self._array = flat.reshape(shape, order='F' if fortran_order else
                                   'C').copy(order='K')

    def __repr__(self) -> str:
        return f'ArrayStandIn({getattr(self, "_array", None)!r})'

    def __reduce_ex__(self, protocol: int) -> Any:
        return self.array.__reduce_ex__(protocol)


def reconstruct(subtype: Any, shape: Any, typecode: Any) -> ArrayStandIn:
    """Stands in for numpy's ``_reconstruct``: an empty
    :class:`ArrayStandIn`, for the pickle's BUILD to fill."""
    if (subtype is not ArrayStandIn or type(shape) is not tuple
            or shape != (0, ) or type(typecode) not in (bytes, str)
            or typecode not in (b'b', 'b')):
        raise CheckpointContentError(
            f'the checkpoint calls numpy _reconstruct({describe(subtype)}, '
            f'{describe(shape)}, {describe(typecode)}), which is not how '
            'numpy pickles an array (_reconstruct(numpy.ndarray, (0,), b"b"))')
    return ArrayStandIn()


def scalar(dtype: Any, data: Any) -> np.generic:
    """Stands in for numpy's ``scalar``: the numpy scalar of ``dtype`` whose
    raw bytes are ``data`` (numpy pickles e.g. ``np.float64(0.5)`` so)."""
    if not isinstance(dtype, DtypeStandIn):
        raise CheckpointContentError(
            f'the checkpoint builds a numpy scalar of {describe(dtype)}, '
            'not of a numpy dtype of the checkpoint')
    dtype = dtype.dtype
    if type(data) not in (bytes, bytearray) or len(data) != dtype.itemsize:
        raise CheckpointContentError(
            f'a numpy {dtype} scalar of the checkpoint holds '
            f'{describe(data)}, not {dtype.itemsize} raw bytes')
    return np.frombuffer(bytes(data), dtype=dtype)[0]


def empty_bytes(*args: Any) -> bytes:
    """Stands in for ``bytes``: protocol 2 pickles ``b''`` (the data of an
    empty numpy array) as ``bytes()``. The real ``bytes(n)`` would allocate
    ``n`` bytes."""
    if args:
        raise CheckpointContentError(
            'the checkpoint calls bytes(...) with arguments; a pickle calls it '
            "only without, for b''")
    return b''
