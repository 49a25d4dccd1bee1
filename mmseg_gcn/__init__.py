"""Global Convolutional Network ("Large Kernel Matters", CVPR 2017) for
MMSegmentation 1.x.

Importing this package registers its models (the dense CRF wrapper among
them), transforms and metrics into mmseg's registries (the ``ResNetGCN``
backbone into mmpretrain's too, when installed). It leaves the tools' modules
(``mmseg_gcn.analysis``, the synthetic data generators) unimported. A config
anywhere can do the same with::

    custom_imports = dict(imports=['mmseg_gcn'], allow_failed_imports=False)

Its one other effect, checkpoint safety: it installs checked loaders in
mmengine's ``CheckpointLoader`` (local files, URLs and the other schemes; see
:mod:`mmseg_gcn.engine.checkpoint_loaders`), so that ``load_from``,
``--resume``, ``load_checkpoint`` and ``init_cfg`` Pretrained load mmengine
checkpoints on torch >= 2.6 (which refuses their ``HistoryBuffer`` and numpy
values by default) without trusting them (:mod:`mmseg_gcn.engine.checkpoint`).
torch's allow-list (``torch.serialization.get_safe_globals()``) is left as it
is: the checked stand-ins are allowed only while one of these loaders runs.
Installing is idempotent; ``MMSEG_GCN_SAFE_GLOBALS`` (globals a trusted
checkpoint may also use) is read once, here. With
``MMSEG_GCN_SAFE_CHECKPOINTS=0`` in the environment, importing installs
nothing and mmengine's loaders stay mmengine's own: on torch >= 2.6 they then
refuse mmengine checkpoints (``Unsupported global: ...HistoryBuffer``; plain
state dicts still load) and unpickle URLs with ``weights_only=False``.
``mmseg_gcn.engine.uninstall_safe_checkpoint_loading()`` undoes the install.
"""
from . import datasets, evaluation, models  # noqa: F401  (registers them)
from .engine import (install_safe_checkpoint_loading,
                     safe_checkpoints_enabled)
from .version import __version__

if safe_checkpoints_enabled():
    install_safe_checkpoint_loading()

__all__ = ['__version__']
