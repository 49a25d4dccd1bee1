"""Checked stand-ins for the numpy and mmengine globals of a checkpoint.

Besides tensors, an mmengine checkpoint pickles mmengine's ``HistoryBuffer``
(the message hub's logs), ``getattr(HistoryBuffer, 'min')`` and the other
statistics methods (a ``HistoryBuffer`` pickles them with its state), and
numpy arrays, dtypes and scalars (inside ``HistoryBuffer`` and in the logged
values). Allow-listing the real objects for torch's restricted unpickler
would let a checkpoint call them with any arguments:

- ``numpy.ndarray((4,), 'O', b'A' * 32)`` is an array of objects over forged
  pointers, which crashes the process (at the latest when it is freed);
- numpy's ``_reconstruct`` followed by BUILD with an object dtype makes an
  object array of whatever the pickle lists, and BUILD of a dtype copy can set
  the flags that mark it as holding objects;
- ``HistoryBuffer.__setstate__`` writes the pickle's ``statistics_methods``
  into the class (for the whole process), and a restricted ``getattr`` that
  reads its allow-list from there can then be widened by the same pickle.

So the unpickler gets, under those names (:data:`STAND_INS`), the objects of
this module and of :mod:`~mmseg_gcn.engine.checkpoint_numpy_standins`
instead. They build inert objects of their own classes and check what the
pickle gives them: numeric dtypes from a fixed list with a
byte order and nothing else, raw bytes of exactly the size the shape and dtype
need, ``HistoryBuffer`` state with known keys and types, statistics methods
from a list fixed at import. :func:`materialize` then replaces them by real
numpy arrays, dtypes and ``HistoryBuffer`` objects, so the loaded checkpoint
holds only ordinary objects. (``torch.load(weights_only=True)`` called
directly with the stand-ins allowed, without :func:`materialize`, returns
them; they save, and
deep-copy, as the objects they stand for, so saving such a result again never
refers to this module either.)
"""
import types
from typing import Any, Dict, List, Tuple

import numpy as np
from mmengine.logging.history_buffer import HistoryBuffer

from .checkpoint_numpy_standins import (ArrayStandIn, CheckpointContentError,
                                        DtypeStandIn, describe, empty_bytes,
                                        is_int, reconstruct, scalar)

_multiarray = getattr(np, '_core', None) or np.core
_multiarray = _multiarray.multiarray

#: HistoryBuffer's statistics methods: the only attributes a checkpoint may
#: look up with ``getattr``. Fixed here; nothing a pickle writes changes it.
HISTORY_BUFFER_STATISTICS = ('min', 'max', 'current', 'mean')
#: The keys of a pickled HistoryBuffer's state (mmengine 0.10: its
#: ``__dict__`` plus ``statistics_methods``).
_HISTORY_BUFFER_KEYS = frozenset(
    ['max_length', '_log_history', '_count_history', 'statistics_methods'])
_HISTORY_BUFFER_REQUIRED = ('max_length', '_log_history', '_count_history')


class StatisticsMethod:
    """What the restricted ``getattr`` returns: the name of one of
    HistoryBuffer's statistics methods, inert (not callable)."""
    __slots__ = ('name', )

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f'HistoryBuffer.{self.name}'

    def __reduce_ex__(self, protocol: int) -> Any:
        return getattr, (HistoryBuffer, self.name)


class HistoryBufferStandIn:
    """Stands in for mmengine's ``HistoryBuffer``.

    mmengine pickles a HistoryBuffer as ``HistoryBuffer.__new__`` followed by
    BUILD with its state; this keeps a copy of the state (its keys checked)
    and never touches the HistoryBuffer class. :func:`materialize` checks the
    values and builds the real HistoryBuffer.
    """
    __slots__ = ('_state', )

    def __init__(self, *args: Any, **kwargs: Any):
        if args or kwargs:
            raise CheckpointContentError(
                'the checkpoint calls HistoryBuffer(...) directly; mmengine '
                'pickles a HistoryBuffer as its state')

    def __setstate__(self, state: Any) -> None:
        if type(state) is not dict:
            raise CheckpointContentError(
                f'the state of a HistoryBuffer in the checkpoint is '
                f'{describe(state)}, not a dict')
        unknown = [key for key in state if key not in _HISTORY_BUFFER_KEYS]
        if unknown:
            raise CheckpointContentError(
                'the state of a HistoryBuffer in the checkpoint sets '
                f'{", ".join(describe(key) for key in unknown)}; a '
                'HistoryBuffer has only '
                f'{", ".join(sorted(_HISTORY_BUFFER_KEYS))}')
        self._state = dict(state)  # later opcodes cannot change it

    def __repr__(self) -> str:
        return 'HistoryBufferStandIn()'

    def __reduce_ex__(self, protocol: int) -> Any:
        # HistoryBuffer() and BUILD: mmengine's NEWOBJ form would insist on
        # the class of this object
        return HistoryBuffer, (), materialize(self).__getstate__()

    def state(self) -> Dict[str, Any]:
        """The state the pickle built, with every required key."""
        state = getattr(self, '_state', None)
        missing = [key for key in _HISTORY_BUFFER_REQUIRED
                   if state is None or key not in state]
        if missing:
            raise CheckpointContentError(
                f'a HistoryBuffer of the checkpoint has no {", ".join(missing)}')
        return state


def restricted_getattr(owner: Any, name: Any) -> StatisticsMethod:
    """Stands in for ``getattr``: HistoryBuffer pickles its statistics
    methods as ``getattr(HistoryBuffer, 'min')``. Only those of
    :data:`HISTORY_BUFFER_STATISTICS` can be looked up."""
    if (owner is HistoryBufferStandIn and isinstance(name, str)
            and name in HISTORY_BUFFER_STATISTICS):
        return StatisticsMethod(name)
    owner_name = ('HistoryBuffer' if owner is HistoryBufferStandIn else
                  describe(owner))
    raise CheckpointContentError(
        f'the checkpoint calls getattr({owner_name}, {describe(name)}); only '
        "HistoryBuffer's statistics methods "
        f'{", ".join(HISTORY_BUFFER_STATISTICS)} may be looked up')


#: What torch's restricted unpickler gets under the names of the globals an
#: mmengine checkpoint refers to (for ``torch.serialization.safe_globals``),
#: including numpy 1's module names, and ``bytes`` (for ``b''``).
STAND_INS: List[Tuple[Any, str]] = [
    (HistoryBufferStandIn, 'mmengine.logging.history_buffer.HistoryBuffer'),
    (restricted_getattr, 'builtins.getattr'),
    (ArrayStandIn, 'numpy.ndarray'),
    (DtypeStandIn, 'numpy.dtype'),
    (reconstruct, 'numpy._core.multiarray._reconstruct'),
    (reconstruct, 'numpy.core.multiarray._reconstruct'),
    (scalar, 'numpy._core.multiarray.scalar'),
    (scalar, 'numpy.core.multiarray.scalar'),
    (empty_bytes, 'builtins.bytes'),
]
#: The real objects behind those names. Allow-listing any of them would let
#: a checkpoint go around the checks.
REPLACED_OBJECTS: Tuple[Any, ...] = (HistoryBuffer, getattr, np.ndarray,
                                     np.dtype, _multiarray._reconstruct,
                                     _multiarray.scalar, bytes)

# Objects materialize() leaves as they are without looking inside.
_OPAQUE_TYPES = (type, types.FunctionType, types.BuiltinFunctionType,
                 types.MethodType, types.ModuleType)


def _check_statistics_methods(methods: Any) -> None:
    """The ``statistics_methods`` of a pickled HistoryBuffer may map each of
    HistoryBuffer's own methods to itself, or name a method that code of this
    process registered (``HistoryBuffer.register_statistics``); they are
    never written into the class."""
    if type(methods) is not dict:
        raise CheckpointContentError(
            'the statistics_methods of a HistoryBuffer in the checkpoint are '
            f'{describe(methods)}, not a dict')
    for name, method in methods.items():
        if isinstance(method, StatisticsMethod) and method.name == name:
            continue
        registered = (HistoryBuffer._statistics_methods.get(name)
                      if isinstance(name, str)
                      and name not in HISTORY_BUFFER_STATISTICS else None)
        if registered is not None and registered is method:
            continue
        raise CheckpointContentError(
            'a HistoryBuffer of the checkpoint maps its statistics method '
            f'{describe(name)} to {method!r}; only HistoryBuffer\'s own '
            f'methods ({", ".join(HISTORY_BUFFER_STATISTICS)}) under their '
            'names, or methods registered in this process, are accepted')


class _Materializer:
    """Walks an unpickled checkpoint once, replacing stand-ins (see
    :func:`materialize`)."""

    def __init__(self):
        self._done: Dict[int, Any] = {}  # id(original) -> replacement
        self._visiting = set()  # ids on the current path, to spot cycles
        self._keep: List[Any] = []  # originals stay alive: ids stay unique

    def visit(self, obj: Any) -> Any:
        if obj is None or type(obj) in (bool, int, float, complex, str, bytes,
                                        bytearray):
            return obj
        key = id(obj)
        if key in self._done:
            return self._done[key]
        if key in self._visiting:
            raise CheckpointContentError(
                'the checkpoint holds a container that contains itself; '
                'checkpoints are trees')
        self._visiting.add(key)
        try:
            result = self._replace(obj)
        finally:
            self._visiting.discard(key)
        self._keep.append(obj)
        self._done[key] = result
        return result

    def _replace(self, obj: Any) -> Any:
        if isinstance(obj, ArrayStandIn):
            return obj.array
        if isinstance(obj, DtypeStandIn):
            return obj.dtype
        if isinstance(obj, HistoryBufferStandIn):
            return self._history_buffer(obj)
        if isinstance(obj, StatisticsMethod):
            raise CheckpointContentError(
                f'the checkpoint holds getattr(HistoryBuffer, {obj.name!r}) '
                'outside the state of a HistoryBuffer')
        if isinstance(obj, _OPAQUE_TYPES):
            return obj
        if isinstance(obj, dict):
            self._dict(obj)
        elif isinstance(obj, list):
            obj[:] = [self.visit(item) for item in obj]
        elif isinstance(obj, set):
            self._set(obj)
        elif isinstance(obj, tuple):
            obj = self._tuple(obj)
        # tensors with attributes, OrderedDicts with _metadata, and objects
        # of classes allowed with MMSEG_GCN_SAFE_GLOBALS
        attributes = getattr(obj, '__dict__', None)
        if isinstance(attributes, dict):
            self._dict(attributes)
        return obj

    def _dict(self, obj: dict) -> None:
        items = [(self.visit(k), self.visit(v)) for k, v in obj.items()]
        if any(new is not old for (new, _), old in zip(items, obj)):
            obj.clear()
        try:
            for k, v in items:
                obj[k] = v
        except TypeError as error:  # a key that became an array
            raise CheckpointContentError(
                f'the checkpoint uses a numpy array as a dict key ({error})'
            ) from None

    def _set(self, obj: set) -> None:
        items = [self.visit(item) for item in obj]
        obj.clear()
        try:
            obj.update(items)
        except TypeError as error:
            raise CheckpointContentError(
                f'the checkpoint puts a numpy array in a set ({error})'
            ) from None

    def _tuple(self, obj: tuple) -> tuple:
        items = [self.visit(item) for item in obj]
        if all(new is old for new, old in zip(items, obj)):
            return obj
        if type(obj) is not tuple:  # e.g. torch.Size: ints only
            raise CheckpointContentError(
                f'the checkpoint holds a {type(obj).__name__} of numpy '
                'objects, which cannot be rebuilt')
        return tuple(items)

    def _history_buffer(self, stand_in: HistoryBufferStandIn) -> HistoryBuffer:
        state = stand_in.state()
        max_length = state['max_length']
        if not is_int(max_length) or max_length < 1:
            raise CheckpointContentError(
                f'a HistoryBuffer of the checkpoint has the max_length '
                f'{describe(max_length)}, not a positive integer')
        history = {}
        for key in ('_log_history', '_count_history'):
            array = self.visit(state[key])
            if (not isinstance(array, np.ndarray) or array.ndim != 1
                    or array.dtype.kind not in 'biuf'):
                raise CheckpointContentError(
                    f'the {key} of a HistoryBuffer of the checkpoint is '
                    f'{describe(array)}, not a 1-d numeric numpy array')
            history[key] = array
        if len(history['_log_history']) != len(history['_count_history']):
            raise CheckpointContentError(
                'a HistoryBuffer of the checkpoint has '
                f'{len(history["_log_history"])} logged values but '
                f'{len(history["_count_history"])} counts')
        _check_statistics_methods(state.get('statistics_methods', {}))
        return HistoryBuffer(history['_log_history'],
                             history['_count_history'], max_length)


def materialize(checkpoint: Any) -> Any:
    """Replaces the stand-ins in a freshly unpickled checkpoint by the real
    objects (numpy arrays, dtypes, ``HistoryBuffer``), checking them.

    Dicts, lists and sets are changed in place; tuples are rebuilt.

    Args:
        checkpoint: what ``torch.load`` returned with :data:`STAND_INS`
            allow-listed.

    Returns:
        The checkpoint without stand-ins.

    Raises:
        CheckpointContentError: if a stand-in was never built or its state
            is not what numpy or mmengine write, or the checkpoint is nested
            too deeply or contains itself.
    """
    try:
        return _Materializer().visit(checkpoint)
    except RecursionError:
        raise CheckpointContentError(
            'the checkpoint is nested too deeply') from None
