"""Global Convolutional Network ("Large Kernel Matters", CVPR 2017) for
MMSegmentation 1.x.

Importing this package registers its models (the dense CRF wrapper among
them), transforms and metrics into mmseg's registries (the ``ResNetGCN``
backbone into mmpretrain's too, when installed) and makes mmengine load local
checkpoints safely on torch >= 2.6 (see :mod:`mmseg_gcn.engine.checkpoint`).
It leaves the tools' modules (``mmseg_gcn.analysis``, the synthetic data
generators) unimported. A config anywhere can do the same with::

    custom_imports = dict(imports=['mmseg_gcn'], allow_failed_imports=False)
"""
from . import datasets, evaluation, models  # noqa: F401  (registers them)
from .engine import install_safe_checkpoint_loading
from .version import __version__

install_safe_checkpoint_loading()

__all__ = ['__version__']
