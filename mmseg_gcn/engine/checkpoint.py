"""Loading mmengine checkpoints safely with ``torch.load(weights_only=True)``.

Since torch 2.6, ``torch.load`` only unpickles tensors, containers and an
allow-list of types. mmengine checkpoints also hold a few of mmengine's own and
numpy's types (the message hub's ``HistoryBuffer`` with its numpy arrays), so
``load_from`` and ``--resume`` fail out of the box. Turning ``weights_only`` off
would let any checkpoint run arbitrary code while it is unpickled.

This module allow-lists exactly the types mmengine checkpoints contain and
replaces mmengine's loader for local files with one that inspects the pickle
first: a checkpoint that needs any other global is refused before anything in
it runs, with an error naming the file and the global.

A user who trusts such a checkpoint allows its extra globals by name, for
example::

    export MMSEG_GCN_SAFE_GLOBALS=mypackage.module.MyClass,collections.Counter

or from Python with :func:`allow_checkpoint_globals`.
"""
import importlib
import os
import pickle
import os.path as osp
from typing import Any, Callable, Iterable, List, Optional

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

SAFE_GLOBALS_ENV = 'MMSEG_GCN_SAFE_GLOBALS'


def _history_buffer_method(owner: Any, name: str) -> Any:
    """Stands in for ``getattr`` while a checkpoint is unpickled.

    ``HistoryBuffer`` pickles its statistics methods as
    ``getattr(HistoryBuffer, 'min')``. Allowing ``getattr`` itself would let a
    pickle reach any attribute of any allowed object; this looks up only those
    methods.
    """
    # The four defaults are registered lazily, by the first HistoryBuffer.
    allowed = {'min', 'max', 'current', 'mean',
               *HistoryBuffer._statistics_methods}
    if owner is HistoryBuffer and name in allowed:
        return getattr(owner, name)
    raise pickle.UnpicklingError(
        f'the checkpoint calls getattr({owner!r}, {name!r}); only '
        "HistoryBuffer's statistics methods may be looked up")


def _numpy_checkpoint_globals() -> List[Any]:
    """The numpy objects of pickled arrays and scalars (``HistoryBuffer``
    holds numpy arrays; mmengine logs numpy scalars): the globals, under numpy
    2's module names and, for checkpoints written with numpy 1, the old ones;
    and the dtype classes, whose instances the pickle builds."""
    multiarray = getattr(np, '_core', np.core).multiarray
    dtype_classes = [type(np.dtype(name)) for name in (
        'bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16',
        'uint32', 'uint64', 'float16', 'float32', 'float64')]
    objects = [multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype,
               *dtype_classes]
    numpy1_names = [(multiarray._reconstruct,
                     'numpy.core.multiarray._reconstruct'),
                    (multiarray.scalar, 'numpy.core.multiarray.scalar')]
    return objects + numpy1_names


#: Every global an mmengine checkpoint refers to (beyond torch's defaults).
MMENGINE_CHECKPOINT_GLOBALS: List[Any] = [
    HistoryBuffer, (_history_buffer_method, 'builtins.getattr'),
    *_numpy_checkpoint_globals()
]


class UntrustedCheckpointError(RuntimeError):
    """A checkpoint needs globals outside the allow-list; none of it was run."""


def _import_global(qualified_name: str) -> Any:
    """Imports ``package.module.Name`` and returns the object it names."""
    module_name, _, attr = qualified_name.rpartition('.')
    if not module_name:
        raise ValueError(
            f'{SAFE_GLOBALS_ENV}: {qualified_name!r} is not a qualified name; '
            'write it as module.Name, e.g. collections.OrderedDict')
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as error:
        raise ValueError(f'{SAFE_GLOBALS_ENV}: cannot import {qualified_name!r}'
                         f' ({error})') from error


def allow_checkpoint_globals(globals_or_names: Iterable[Any]) -> None:
    """Adds types or functions to the globals checkpoints may refer to.

    Only do this for checkpoints you trust: an allowed global can be called
    while a checkpoint is unpickled.

    Args:
        globals_or_names (Iterable): objects, or their qualified names as
            strings (``'package.module.Name'``).
    """
    objects = [_import_global(g) if isinstance(g, str) else g
               for g in globals_or_names]
    torch.serialization.add_safe_globals(objects)


def _globals_from_env() -> List[str]:
    value = os.environ.get(SAFE_GLOBALS_ENV, '')
    return [name.strip() for name in value.split(',') if name.strip()]


def check_checkpoint_is_safe(filename: str) -> None:
    """Raises :class:`UntrustedCheckpointError` unless every global the
    checkpoint's pickle refers to is allow-listed. Nothing in the file runs.

    Args:
        filename (str): path of a checkpoint saved with ``torch.save``.
    """
    try:
        unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(filename)
    except Exception as error:
        raise UntrustedCheckpointError(
            f'Cannot read checkpoint {filename!r}: {error}. The file is '
            'corrupt, truncated or not a torch checkpoint; save or download '
            'it again.') from error
    if unsafe:
        names = ', '.join(sorted(unsafe))
        raise UntrustedCheckpointError(
            f'Refused to load checkpoint {filename!r}: it refers to '
            f'{names}, which an mmengine checkpoint does not contain, and '
            'unpickling it could run arbitrary code. Nothing from the file was '
            'run. If you trust this file, allow exactly these globals with '
            f'`export {SAFE_GLOBALS_ENV}={",".join(sorted(unsafe))}` (or '
            'mmseg_gcn.engine.allow_checkpoint_globals) and retry.')


def load_local_checkpoint(filename: str,
                          map_location: Optional[Any] = None) -> Any:
    """mmengine's local-file checkpoint loader, with the safety check first.

    Args:
        filename (str): local checkpoint path.
        map_location: as for :func:`torch.load`.

    Returns:
        The loaded checkpoint (usually a dict).
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'Checkpoint {filename!r} does not exist.')
    allow_checkpoint_globals(_globals_from_env())
    check_checkpoint_is_safe(filename)
    try:
        return torch.load(filename, map_location=map_location,
                          weights_only=True)
    except pickle.UnpicklingError as error:
        raise UntrustedCheckpointError(
            f'Refused to load checkpoint {filename!r}: {error}. Nothing from '
            'the file was run.') from error


def install_safe_checkpoint_loading(
        loader: Callable[[str, Any], Any] = load_local_checkpoint) -> None:
    """Allow-lists mmengine's checkpoint types and makes ``loader`` the
    loader of local checkpoint files (``load_from``, ``--resume``,
    ``init_cfg=dict(type='Pretrained', checkpoint=<path>)``)."""
    torch.serialization.add_safe_globals(MMENGINE_CHECKPOINT_GLOBALS)
    CheckpointLoader.register_scheme(prefixes='', loader=loader, force=True)
