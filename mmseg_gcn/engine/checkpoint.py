"""Loading mmengine checkpoints without trusting them.

Threat model
------------
A checkpoint may come from anyone (a download, a shared folder, a copied
work dir), and loading it is a routine act: ``load_from``, ``--resume``,
the next stage of a multi-stage schedule, ``init_cfg=dict(type='Pretrained')``,
``tools/test.py``, ``tools/infer.py``. A checkpoint is a pickle, and a
pickle can call any function. So loading a checkpoint must not:

1. run code from it: no global outside an allow-list is called, and no text
   from it is ever executed (mmengine executes config text kept in
   checkpoints, see below);
2. corrupt memory: nothing from it builds a numpy object array (an array of
   pointers the file forges) or any other object whose memory the file
   controls;
3. change the process: nothing from it writes class-level or global state;
4. hang or exhaust memory: a FIFO named ``x.pth`` is refused without being
   opened for blocking reads, and a file cannot declare more data (arrays,
   tensor storages, strings) than it holds;

and a file that cannot be loaded is refused with an
:class:`UntrustedCheckpointError` naming it and saying what it is (corrupt,
truncated, a directory, not a torch file, or unsafe: which globals).

What is allowed, and why
------------------------
torch (>= 2.6) unpickles with ``weights_only=True``: tensors, containers and
torch's own allow-list. mmengine checkpoints also hold mmengine's
``HistoryBuffer`` (the message hub's logs, with ``getattr(HistoryBuffer,
'min')`` etc.) and numpy arrays, dtypes and scalars. For these globals the
unpickler gets checked stand-ins (:mod:`~mmseg_gcn.engine.checkpoint_standins`):
numeric dtypes from a fixed list, raw bytes of exactly the declared size,
``HistoryBuffer`` state with known keys and types, and a ``getattr`` that
looks up only the four statistics methods, fixed at import. After loading,
the stand-ins are replaced by real numpy and mmengine objects.

The stand-ins (and the globals a user allows, below) are allow-listed for
torch only while one of this module's loaders runs
(:func:`safe_checkpoint_globals`, torch's ``safe_globals``): torch's own
allow-list (``torch.serialization.get_safe_globals()``) is the same before
and after every load, and importing the package leaves it alone.

Of torch's own allow-list, the rebuilds of sparse, nested and wrapper-subclass
tensors and of tensors from numpy arrays are left out: mmengine checkpoints
never contain them, and they build tensors from sizes and offsets in the file.

Local files (mmengine's ``''`` scheme, which every path above uses) are
inspected first (:mod:`~mmseg_gcn.engine.checkpoint_file`), in the zip and in
the legacy format, without executing anything: a file whose pickles refer to
any other global is refused before anything in it runs, naming all of them;
so is one that declares more data than it holds (strings, tensor storages,
tensors larger than their storage) or calls what ``torch.save`` never calls
and what would allocate any size the file declares (``torch.Tensor(n)``,
storage constructors, ``bytearray(n)``). A symbolic link to a checkpoint file
loads like the file (what is checked is the content); anything else that is
not a regular file is refused for what it is.

mmengine executes config text from a checkpoint: ``Runner.resume`` runs
``Config.fromstring(checkpoint['meta']['config'])`` to compare GPU counts, and
its inferencer, given no config, runs ``message_hub['runtime_info']['cfg']``
or ``meta['cfg']``. The loaders therefore never hand back a config text where
mmengine looks for one: ``meta['config']`` and ``meta['cfg']`` are kept as
``meta['config_text']`` and ``meta['cfg_text']``, and the message hub's copy
is dropped (a resumed run records its own config there). mmengine itself
writes ``meta['cfg']``, never ``meta['config']`` (a key of mmcv 1.x
checkpoints, which mmengine cannot resume), so the GPU-count comparison never
applied to its checkpoints and is not repeated.

mmengine's other schemes get the same treatment (see
:mod:`~mmseg_gcn.engine.checkpoint_loaders`): ``http://``/``https://`` (and
``torchvision://``, ``open-mmlab://``, ``mmcls://``, which download through
it) used ``torch.hub`` with ``weights_only=False``, which runs any code in the
download; the file is now downloaded into torch's hub cache and loaded as a
local file. ``pavi://``, ``s3://``/``petrel://`` and the local files of
``open-mmlab://`` load with torch's default ``weights_only=True``; their
result goes through the same stand-in replacement and config-text removal.

Limits
------
The inspection reads a zip archive with Python's ``zipfile``, torch with its
own reader: a zip crafted to read differently in the two can escape the
inspection's size checks, not the restricted unpickling. ``pavi://`` and
``s3://`` files are not inspected before ``torch.load``. Schemes registered
after the loaders are installed (by other packages) are not wrapped.
``torch.load(weights_only=True)`` called directly refuses an mmengine
checkpoint (``Unsupported global: ...HistoryBuffer``) as torch >= 2.6 does;
inside ``with safe_checkpoint_globals():`` it returns the stand-ins (which
save back as the real objects). Load through mmengine or
:func:`load_local_checkpoint` to get real numpy arrays and ``HistoryBuffer``.
While a load runs, torch's allow-list holds the stand-ins for every thread of
the process (torch keeps one list).

The opt-in
----------
A user who trusts a checkpoint that needs more globals allows them by name::

    export MMSEG_GCN_SAFE_GLOBALS=mypackage.module.MyClass,collections.Counter

(read once, when the package installs its loaders or at the first load) or
from Python with :func:`allow_checkpoint_globals`. They are allowed for this
package's loads only, not added to torch's allow-list. An allowed global can be
called by any checkpoint with any arguments, and objects of an allowed class
get their attributes from the checkpoint, so allow only what you would import
and run yourself. The names the stand-ins take (``numpy.ndarray``,
``numpy.dtype``, ``builtins.getattr``, ``HistoryBuffer``, ...) cannot be
allowed as the real objects: that would reopen the holes above.
"""
import contextlib
import importlib
import os
import os.path as osp
import pickle
from typing import Any, Iterable, Iterator, List, Optional

import torch

from .checkpoint_file import CheckpointFile, CheckpointFileError, \
    open_checkpoint
from .checkpoint_standins import (REPLACED_OBJECTS, STAND_INS,
                                  CheckpointContentError, materialize)

SAFE_GLOBALS_ENV = 'MMSEG_GCN_SAFE_GLOBALS'

#: Every global an mmengine checkpoint refers to (beyond torch's defaults),
#: each with the checked stand-in the unpickler gets under its name.
MMENGINE_CHECKPOINT_GLOBALS: List[Any] = list(STAND_INS)
_STAND_IN_NAMES = frozenset(name for _, name in STAND_INS)
#: Where mmengine looks for config text to execute (see the module
#: docstring): meta keys kept as ``<key>_text``, and the message hub's copy.
_META_CONFIG_KEYS = ('config', 'cfg')
_RUNTIME_INFO_CONFIG_KEY = 'cfg'
#: The globals allowed with :func:`allow_checkpoint_globals` (and
#: MMSEG_GCN_SAFE_GLOBALS): for this package's loads only.
_ALLOWED_GLOBALS: List[Any] = []
_env_globals_read = False


class UntrustedCheckpointError(RuntimeError):
    """A checkpoint cannot be loaded safely: it needs globals outside the
    allow-list, holds something an mmengine checkpoint never does, or is not
    a (complete) checkpoint file. Nothing from it was run."""


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
    with any arguments while a checkpoint is unpickled. They are allowed in
    this package's loads (mmengine's, once installed), not added to torch's
    allow-list.

    Args:
        globals_or_names (Iterable): objects, or their qualified names as
            strings (``'package.module.Name'``).

    Raises:
        ValueError: for a name that cannot be imported, or one of the globals
            that are loaded through a checked stand-in (``numpy.ndarray``
            ...): allowing the real one would bypass the checks.
    """
    objects = []
    for item in globals_or_names:
        name = item if isinstance(item, str) else getattr(
            item, '__qualname__', repr(item))
        if ((isinstance(item, str) and item in _STAND_IN_NAMES)
                or any(item is real for real in REPLACED_OBJECTS)):
            raise ValueError(
                f'{SAFE_GLOBALS_ENV}: {name} is loaded through a checked '
                'stand-in already; allowing the real one would let any '
                'checkpoint go around the checks (e.g. build numpy object '
                'arrays over forged pointers). Remove it.')
        objects.append(_import_global(item) if isinstance(item, str) else item)
    _ALLOWED_GLOBALS.extend(obj for obj in dict.fromkeys(objects)
                            if obj not in _ALLOWED_GLOBALS)


def _globals_from_env() -> List[str]:
    value = os.environ.get(SAFE_GLOBALS_ENV, '')
    return [name.strip() for name in value.split(',') if name.strip()]


def allowed_checkpoint_globals() -> List[Any]:
    """The globals allowed with :func:`allow_checkpoint_globals`; the first
    call also allows those named by ``MMSEG_GCN_SAFE_GLOBALS`` (read once per
    process).

    Raises:
        ValueError: for a name in ``MMSEG_GCN_SAFE_GLOBALS`` that cannot be
            imported or that is loaded through a checked stand-in.
    """
    global _env_globals_read
    if not _env_globals_read:
        allow_checkpoint_globals(_globals_from_env())
        _env_globals_read = True
    return list(_ALLOWED_GLOBALS)


#: Globals torch allows by default that mmengine checkpoints never contain.
#: Each builds tensors (sparse, nested, wrapper subclasses, from numpy arrays)
#: from sizes and offsets in the file that the inspection does not check, so
#: they need MMSEG_GCN_SAFE_GLOBALS like any other global.
_TORCH_GLOBALS_NOT_IN_MMENGINE_CHECKPOINTS = frozenset([
    'torch._utils._rebuild_sparse_tensor',
    'torch._utils._rebuild_nested_tensor',
    'torch._utils._rebuild_wrapper_subclass',
    'torch._utils._rebuild_device_tensor_from_numpy',
])


def _allowed_global_names() -> set:
    """The globals a checkpoint may refer to: torch's restricted unpickler's
    own list (less the ones above) and torch's allow-list, which holds the
    stand-ins and the allowed globals inside :func:`safe_checkpoint_globals`."""
    from torch import _weights_only_unpickler as unpickler
    return ((set(unpickler._get_allowed_globals())
             - _TORCH_GLOBALS_NOT_IN_MMENGINE_CHECKPOINTS)
            | set(unpickler._get_user_allowed_globals()))


def _refuse_real_objects() -> None:
    """Makes sure no other code of this process allow-listed the real objects
    behind the stand-ins, or something else under their names, in torch's
    allow-list: torch looks globals up by name in one set, so either could
    take a stand-in's place and bypass the checks."""
    wrong = []
    for entry in torch.serialization.get_safe_globals():
        if isinstance(entry, tuple):
            obj, name = entry
        else:
            obj = entry
            name = (f'{getattr(obj, "__module__", "")}.'
                    f'{getattr(obj, "__qualname__", "")}')
        if (any(obj is real for real in REPLACED_OBJECTS)
                or (name in _STAND_IN_NAMES and entry not in STAND_INS)):
            wrong.append(name)
    if wrong:
        raise UntrustedCheckpointError(
            'Refused to load checkpoints: code in this process allow-listed '
            f'{", ".join(sorted(set(wrong)))} for torch.load '
            '(torch.serialization.add_safe_globals), which mmseg_gcn loads '
            'through checked stand-ins; with the real objects any checkpoint '
            'could build numpy object arrays or change HistoryBuffer. Remove '
            'that call (or undo it with '
            'torch.serialization.remove_safe_globals([...])).')


@contextlib.contextmanager
def safe_checkpoint_globals() -> Iterator[None]:
    """Allow-lists the stand-ins (:data:`MMENGINE_CHECKPOINT_GLOBALS`) and
    the globals of :func:`allowed_checkpoint_globals` for ``torch.load``
    inside the ``with`` block only.

    Only what torch's allow-list lacks is added, and exactly that is removed
    afterwards, so ``torch.serialization.get_safe_globals()`` is the same
    after the block as before it (unless other code changes it meanwhile).

    Raises:
        UntrustedCheckpointError: if other code allow-listed the real numpy
            or mmengine objects the stand-ins take the place of.
    """
    wanted = MMENGINE_CHECKPOINT_GLOBALS + allowed_checkpoint_globals()
    _refuse_real_objects()
    present = set(torch.serialization.get_safe_globals())
    missing = [obj for obj in dict.fromkeys(wanted) if obj not in present]
    with torch.serialization.safe_globals(missing):
        yield


def _inspect(path: str) -> CheckpointFile:
    """Opens and inspects a local checkpoint, refusing unsafe globals."""
    try:
        checkpoint_file = open_checkpoint(path)
    except CheckpointFileError as error:
        raise UntrustedCheckpointError(
            f'Cannot load checkpoint {path!r}: {error}.') from None
    unsafe = sorted(checkpoint_file.globals - _allowed_global_names())
    if unsafe:
        checkpoint_file.stream.close()
        names = ', '.join(unsafe)
        raise UntrustedCheckpointError(
            f'Refused to load checkpoint {path!r}: it refers to {names}, '
            'which an mmengine checkpoint does not contain, and unpickling '
            'it could run arbitrary code. Nothing from the file was run. If '
            'you trust this file, allow exactly these globals with '
            f'`export {SAFE_GLOBALS_ENV}={",".join(unsafe)}` (or '
            'mmseg_gcn.engine.allow_checkpoint_globals) and retry.')
    return checkpoint_file


def check_checkpoint_is_safe(filename: str) -> None:
    """Inspects a local checkpoint without unpickling it.

    Raises :class:`UntrustedCheckpointError` unless it is a regular file in
    one of torch's formats whose pickles refer only to allow-listed globals.
    Nothing in the file runs. Loading it checks its values as well.

    Args:
        filename (str): path of a checkpoint saved with ``torch.save``.

    Raises:
        FileNotFoundError: if it does not exist.
        UntrustedCheckpointError: saying what the file is and what to do.
    """
    with safe_checkpoint_globals():
        _inspect(osp.expanduser(filename)).stream.close()


def _torch_reason(error: pickle.UnpicklingError) -> str:
    """The unpickler's own words from torch's message (which wraps them in
    advice about ``weights_only=False``)."""
    text = str(error)
    for marker in ('WeightsUnpickler error: ', '\n\n'):
        if marker in text:
            text = text.split(marker, 1)[1]
    return text.split('\n\nCheck the documentation', 1)[0].strip()


def refusal_error(source: str, error: Exception) -> UntrustedCheckpointError:
    """The :class:`UntrustedCheckpointError` for a failure while loading
    ``source`` (any exception: torch's, the stand-ins' or a malformed
    pickle's)."""
    if isinstance(error, CheckpointContentError):
        return UntrustedCheckpointError(
            f'Refused to load checkpoint {source!r}: {error}. An mmengine '
            'checkpoint never holds this; nothing from the file was run.')
    if isinstance(error, pickle.UnpicklingError):
        return UntrustedCheckpointError(
            f'Refused to load checkpoint {source!r}: {_torch_reason(error)}. '
            'Nothing from the file was run.')
    return UntrustedCheckpointError(
        f'Cannot load checkpoint {source!r}: {type(error).__name__}: {error}. '
        'The file is corrupt or truncated, or was crafted to break the '
        'loader; nothing from it was run. Save or download it again.')


def _without_config_texts(checkpoint: Any) -> Any:
    """Moves config texts away from where mmengine executes them (see the
    module docstring)."""
    if not isinstance(checkpoint, dict):
        return checkpoint
    meta = checkpoint.get('meta')
    if isinstance(meta, dict):
        for key in _META_CONFIG_KEYS:
            if key in meta:
                meta[f'{key}_text'] = meta.pop(key)
    hub = checkpoint.get('message_hub')
    runtime_info = hub.get('runtime_info') if isinstance(hub, dict) else None
    if isinstance(runtime_info, dict):
        runtime_info.pop(_RUNTIME_INFO_CONFIG_KEY, None)
    return checkpoint


def finish_checkpoint(checkpoint: Any, source: str) -> Any:
    """What every loader hands back: the unpickled checkpoint with real
    objects in place of the stand-ins, and no config text where mmengine
    would execute it."""
    try:
        return _without_config_texts(materialize(checkpoint))
    except CheckpointContentError as error:
        raise refusal_error(source, error) from None


def load_local_checkpoint(filename: str,
                          map_location: Optional[Any] = None) -> Any:
    """mmengine's local-file checkpoint loader, inspecting the file first and
    checking what it holds (see the module docstring).

    Args:
        filename (str): local checkpoint path (a symbolic link to a file
            works: what is checked is the file's content).
        map_location: as for :func:`torch.load`.

    Returns:
        The loaded checkpoint (usually a dict).

    Raises:
        FileNotFoundError: if it does not exist.
        UntrustedCheckpointError: for any other failure, naming the file.
    """
    path = osp.expanduser(filename)
    with safe_checkpoint_globals():
        checkpoint_file = _inspect(path)
        with checkpoint_file.stream:
            try:
                checkpoint = torch.load(checkpoint_file.stream,
                                        map_location=map_location,
                                        weights_only=True)
            except Exception as error:  # noqa: B902 -- all name the file
                raise refusal_error(path, error) from error
    return finish_checkpoint(checkpoint, path)

