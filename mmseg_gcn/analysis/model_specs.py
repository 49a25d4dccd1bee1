"""The complete segmentors the whole-model benchmark compares, built as a
user would pick them: from their configs, with their own backbones and
auxiliary heads, but randomly initialised.

- This package's GCN: ``configs/_base_/models/gcn_r152.py`` (ResNet-152,
  output stride 32, GCN + BR head, no auxiliary head), with the ResNet depth
  changed for the R101 and R50 variants.
- mmseg's models: the configs shipped in the installed mmseg
  (``mmseg/.mim/configs``), those trained on VOC 2012 + SBD at 512 x 512
  for 40k iterations: FCN, PSPNet, DeepLabV3, DeepLabV3+ on a dilated
  output-stride-8 ResNetV1c ("-d8"), and UPerNet (output stride 32), each
  with its ``FCNHead`` auxiliary head on res-4.

Every config is changed the same way: pretrained weights removed (``pretrained``
and ``init_cfg`` of type ``Pretrained``: nothing is downloaded), ``SyncBN``
replaced by ``BN`` (a single process has no group to synchronise with, and
``SyncBN`` cannot run on a CPU), and the heads' ``num_classes`` set.
"""
import copy
import os.path as osp
from dataclasses import dataclass
from typing import Dict, Optional

from ..utils import replace_sync_bn, without_pretrained
from .published_accuracy import mmseg_configs_dir

GCN_BASE_CONFIG = osp.join('configs', '_base_', 'models', 'gcn_r152.py')


@dataclass(frozen=True)
class ModelSpec:
    """A benchmarked model.

    Args:
        title (str): Display name, e.g. ``'PSPNet-R101-d8'``.
        mmseg_config (str, optional): mmseg's config, relative to its
            configs folder; None for this package's GCN.
        depth (int, optional): GCN only: the ResNet depth.
    """
    title: str
    mmseg_config: Optional[str] = None
    depth: Optional[int] = None


def _mmseg(title: str,
           algorithm: str,
           depth: int,
           dilated: bool = True) -> ModelSpec:
    suffix = '-d8' if dilated else ''
    return ModelSpec(
        title, f'{algorithm}/{algorithm}_r{depth}{suffix}_4xb4-40k_'
        f'voc12aug-512x512.py')


MODEL_SPECS: Dict[str, ModelSpec] = {
    'gcn-r152-d32': ModelSpec('GCN-R152-d32', depth=152),
    'gcn-r101-d32': ModelSpec('GCN-R101-d32', depth=101),
    'gcn-r50-d32': ModelSpec('GCN-R50-d32', depth=50),
    'fcn-r101-d8': _mmseg('FCN-R101-d8', 'fcn', 101),
    'pspnet-r101-d8': _mmseg('PSPNet-R101-d8', 'pspnet', 101),
    'deeplabv3-r101-d8': _mmseg('DeepLabV3-R101-d8', 'deeplabv3', 101),
    'deeplabv3plus-r101-d8': _mmseg('DeepLabV3+-R101-d8', 'deeplabv3plus',
                                    101),
    'upernet-r101': _mmseg('UPerNet-R101', 'upernet', 101, dilated=False),
    'fcn-r50-d8': _mmseg('FCN-R50-d8', 'fcn', 50),
    'pspnet-r50-d8': _mmseg('PSPNet-R50-d8', 'pspnet', 50),
    'deeplabv3-r50-d8': _mmseg('DeepLabV3-R50-d8', 'deeplabv3', 50),
    'deeplabv3plus-r50-d8': _mmseg('DeepLabV3+-R50-d8', 'deeplabv3plus', 50),
    'upernet-r50': _mmseg('UPerNet-R50', 'upernet', 50, dilated=False),
}
# what a run compares unless told otherwise: our three GCNs and the five
# mmseg segmentors a user would pick instead
DEFAULT_MODELS = ('gcn-r152-d32', 'gcn-r101-d32', 'gcn-r50-d32', 'fcn-r101-d8',
                  'pspnet-r101-d8', 'deeplabv3-r101-d8',
                  'deeplabv3plus-r101-d8', 'upernet-r101')
REFERENCE_MODEL = 'gcn-r152-d32'


def package_root() -> str:
    """The folder holding this package's ``configs``."""
    return osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def config_path(spec: ModelSpec) -> str:
    """The config file a model is built from.

    Raises:
        FileNotFoundError: The file is missing (e.g. mmseg installed
            without its ``.mim`` configs).
    """
    if spec.mmseg_config is None:
        path = osp.join(package_root(), GCN_BASE_CONFIG)
    else:
        path = osp.join(mmseg_configs_dir(), spec.mmseg_config)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'config {path!r} of {spec.title} does not exist; the GCN '
            f'configs come with this repository, mmseg\'s with its wheel '
            f'(mmseg/.mim/configs).')
    return path


def _set_head_classes(node, num_classes: int) -> None:
    """Sets ``num_classes`` of every decode head in a config tree."""
    if isinstance(node, list):
        for n in node:
            _set_head_classes(n, num_classes)
    elif isinstance(node, dict):
        if 'num_classes' in node and 'loss_decode' in node:  # a decode head
            node['num_classes'] = num_classes
        for value in node.values():
            _set_head_classes(value, num_classes)


def model_config(name: str, num_classes: int = 21) -> dict:
    """The model config of a benchmarked model, ready to build.

    Args:
        name (str): A key of :data:`MODEL_SPECS`.
        num_classes (int): Classes of every head. Defaults to 21 (VOC).

    Returns:
        dict: The ``model`` dict of the config, changed as the module
        docstring says.
    """
    from mmengine.config import Config
    if name not in MODEL_SPECS:
        raise ValueError(f'unknown model {name!r}; choose from '
                         f'{tuple(MODEL_SPECS)}.')
    spec = MODEL_SPECS[name]
    # the configs are mmengine Python configs of the package or of mmseg,
    # not user files; they are parsed by mmengine as in training
    cfg = Config.fromfile(config_path(spec))
    model = without_pretrained(copy.deepcopy(cfg.model.to_dict()))
    replace_sync_bn(model)
    _set_head_classes(model, num_classes)
    if spec.depth is not None:
        model['backbone']['depth'] = spec.depth
    return model
