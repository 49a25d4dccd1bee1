"""Making mmengine load every checkpoint through :mod:`.checkpoint`.

``import mmseg_gcn`` calls :func:`install_safe_checkpoint_loading` (unless
``MMSEG_GCN_SAFE_CHECKPOINTS=0``; see :func:`safe_checkpoints_enabled`). It
is the package's only change to other libraries' state, and it touches
mmengine's checkpoint loaders only:

- the loader of local files (mmengine's ``''`` scheme: ``load_from``,
  ``--resume``, ``init_cfg=dict(type='Pretrained', checkpoint=<path>)``,
  ``load_checkpoint``) becomes :func:`~.checkpoint.load_local_checkpoint`;
- ``mmengine.runner.checkpoint.load_url`` (``http://``, ``https://`` and the
  model-zoo schemes that download through it; mmengine's own unpickles with
  ``weights_only=False``) downloads into torch's hub cache and loads the file
  like a local one;
- every other registered scheme (``pavi://``, ``s3://``, ``open-mmlab://``
  ...) keeps its loader, run with the stand-ins allow-listed and its result
  finished like a local checkpoint's.

torch's allow-list is not changed: the stand-ins are allow-listed only while
a load runs (:func:`~.checkpoint.safe_checkpoint_globals`). Installing twice
is installing once, and :func:`uninstall_safe_checkpoint_loading` puts
mmengine's own loaders back.
"""
import functools
import os
import os.path as osp
import pickle
from typing import Any, Callable, Dict, Optional, Tuple
from urllib.parse import urlparse

import mmengine.runner.checkpoint as mmengine_checkpoint
import torch
from mmengine.runner.checkpoint import CheckpointLoader

from .checkpoint import (allowed_checkpoint_globals, finish_checkpoint,
                         load_local_checkpoint, refusal_error,
                         safe_checkpoint_globals)
from .checkpoint_standins import CheckpointContentError

SAFE_CHECKPOINTS_ENV = 'MMSEG_GCN_SAFE_CHECKPOINTS'

#: While installed: mmengine's ``load_url`` and, per scheme prefix, mmengine's
#: loader and the one that took its place.
_installed: Optional[Dict[str, Any]] = None


def safe_checkpoints_enabled() -> bool:
    """Whether ``import mmseg_gcn`` installs the safe loaders:
    ``MMSEG_GCN_SAFE_CHECKPOINTS`` unset, empty or ``1``, not ``0``.

    Raises:
        ValueError: for any other value.
    """
    value = os.environ.get(SAFE_CHECKPOINTS_ENV, '').strip()
    if value in ('', '1'):
        return True
    if value == '0':
        return False
    raise ValueError(
        f'{SAFE_CHECKPOINTS_ENV}={value!r}: set it to 0 to leave mmengine\'s '
        'checkpoint loaders as they are, or to 1 (or unset it) to load '
        'checkpoints safely')


def _load_url(url: str,
              model_dir: Optional[str] = None,
              map_location: Optional[Any] = None,
              progress: bool = True,
              check_hash: bool = False,
              file_name: Optional[str] = None) -> Any:
    """Takes the place of mmengine's ``load_url`` (``torch.hub`` with
    ``weights_only=False``): downloads into torch's hub cache as it does, and
    loads the file with :func:`~.checkpoint.load_local_checkpoint`."""
    model_dir = model_dir or osp.join(torch.hub.get_dir(), 'checkpoints')
    os.makedirs(model_dir, exist_ok=True)
    file_name = file_name or osp.basename(urlparse(url).path)
    cached_file = osp.join(model_dir, file_name)
    if not osp.exists(cached_file):
        hash_prefix = None
        if check_hash:
            match = torch.hub.HASH_REGEX.search(file_name)
            hash_prefix = match.group(1) if match else None
        torch.hub.download_url_to_file(url, cached_file, hash_prefix,
                                       progress=progress)
    return load_local_checkpoint(cached_file, map_location)


def _checked_scheme(loader: Callable) -> Callable:
    """One of mmengine's scheme loaders, run with the stand-ins allow-listed
    and its result finished like a local checkpoint's (stand-ins replaced,
    config text moved)."""

    @functools.wraps(loader)
    def load(filename: str, map_location: Optional[Any] = None) -> Any:
        try:
            with safe_checkpoint_globals():
                checkpoint = loader(filename, map_location)
        except (pickle.UnpicklingError, CheckpointContentError) as error:
            raise refusal_error(filename, error) from error
        return finish_checkpoint(checkpoint, filename)

    return load


def install_safe_checkpoint_loading() -> None:
    """Makes every checkpoint mmengine loads go through the checks of
    :mod:`~mmseg_gcn.engine.checkpoint` (see this module's docstring).

    Idempotent: once installed, calling it again changes nothing (the
    loaders are not wrapped twice). Reads ``MMSEG_GCN_SAFE_GLOBALS`` (once
    per process), so that a wrong name in it fails here.

    Raises:
        ValueError: for a name in ``MMSEG_GCN_SAFE_GLOBALS`` that cannot be
            imported or that is loaded through a checked stand-in.
    """
    global _installed
    allowed_checkpoint_globals()
    if _installed is not None:
        return
    schemes: Dict[str, Tuple[Callable, Callable]] = {}
    for prefix, original in list(CheckpointLoader._schemes.items()):
        schemes[prefix] = (original, _checked_scheme(original)
                           if prefix else load_local_checkpoint)
    _installed = dict(load_url=mmengine_checkpoint.load_url, schemes=schemes)
    # load_from_http (and the model-zoo schemes through it) calls this name
    mmengine_checkpoint.load_url = _load_url
    for prefix, (_, safe) in schemes.items():
        CheckpointLoader.register_scheme(prefixes=prefix, loader=safe,
                                         force=True)


def uninstall_safe_checkpoint_loading() -> None:
    """Puts back mmengine's own loaders where
    :func:`install_safe_checkpoint_loading` replaced them (a loader that
    other code registered since is left as it is). Does nothing when not
    installed.

    On torch >= 2.6, mmengine then refuses its own checkpoints (``Unsupported
    global: ...HistoryBuffer``) and unpickles downloads with
    ``weights_only=False``.
    """
    global _installed
    if _installed is None:
        return
    if mmengine_checkpoint.load_url is _load_url:
        mmengine_checkpoint.load_url = _installed['load_url']
    for prefix, (original, safe) in _installed['schemes'].items():
        if CheckpointLoader._schemes.get(prefix) is safe:
            CheckpointLoader.register_scheme(prefixes=prefix,
                                             loader=original, force=True)
    _installed = None
