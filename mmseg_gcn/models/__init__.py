"""Models of the Global Convolutional Network; importing this package
registers ``GCN``, ``BoundaryRefine``, ``GCNHead``, ``ResNetGCN`` and the
test-time wrapper ``DenseCRFSegmentor`` in mmseg's ``MODELS`` (``ResNetGCN``
also in mmpretrain's when installed)."""
from .backbones import *  # noqa: F401,F403
from .decode_heads import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .segmentors import *  # noqa: F401,F403
