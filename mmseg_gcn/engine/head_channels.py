"""Checks, before a run, that the heads take the channels (and, for heads
with ``feature_strides``, the strides) that the backbone gives.

A decode or auxiliary head's ``in_channels`` must be the channels of the
backbone (or neck) outputs that its ``in_index`` selects. mmseg does not
check this: a mismatch, such as ``decode_head.in_channels=(64, 128, 256,
512)`` on a ResNet-50, fails at the first forward with torch's ``expected
input ... to have 64 channels`` and names no config key. The channels depend
on the backbone's arguments (``depth``, ``base_channels``, ``out_indices``,
...), so :func:`check_head_channels` builds the backbone alone, without its
pretrained weights, and runs it once on a small zero image. The same run
gives each output's stride, which heads that upsample by their
``feature_strides`` (GCNHead, mmseg's FPNHead) must match: GCNHead with the
default ``(4, 8, 16, 32)`` on a dilated ResNet-d8 (strides 4, 8, 8, 8) would
otherwise upsample maps that are already at the same stride.
"""
import copy
import inspect
import logging
from typing import Any, Iterator, List, Optional, Sequence, Tuple

import torch
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.registry import DefaultScope

from ..utils import without_pretrained

#: Side of the zero image the backbone runs on; enough for output stride 32.
PROBE_SIZE = 64


class HeadChannelsError(ValueError):
    """A head's ``in_channels`` or ``feature_strides`` do not match the
    backbone's outputs."""


def _as_tuple(value: Any) -> tuple:
    return tuple(value) if isinstance(value, (list, tuple)) else (value, )


def _segmentor(model: dict) -> Tuple[Optional[dict], str]:
    """The segmentor config inside wrappers such as ``SegTTAModel`` (their
    ``module``), with its dotted path."""
    path = 'model'
    while 'backbone' not in model and isinstance(model.get('module'), dict):
        model, path = model['module'], f'{path}.module'
    return (model if 'backbone' in model else None), path


def _heads(segmentor: dict, path: str) -> Iterator[Tuple[str, dict]]:
    """(dotted path, config) of every decode and auxiliary head."""
    for name in ('decode_head', 'auxiliary_head'):
        heads = segmentor.get(name)
        if isinstance(heads, dict):
            yield f'{path}.{name}', heads
        elif isinstance(heads, (list, tuple)):
            for i, head in enumerate(heads):
                if isinstance(head, dict):
                    yield f'{path}.{name}.{i}', head


def _argument(head: dict, name: str) -> Any:
    """The head's ``name`` argument: from its config, else the default of
    its class (the first ``__init__`` in the MRO that declares it)."""
    if name in head:
        return head[name]
    from mmseg.registry import MODELS
    cls = MODELS.get(head.get('type', ''))
    for klass in inspect.getmro(cls) if inspect.isclass(cls) else ():
        if '__init__' in klass.__dict__:
            parameter = inspect.signature(
                klass.__dict__['__init__']).parameters.get(name)
            if parameter is not None:
                return (None if parameter.default is parameter.empty else
                        parameter.default)
    return None


def _outputs(segmentor: dict) -> Optional[List[Tuple[int, Optional[int]]]]:
    """(channels, stride) of each feature map the heads receive: the
    backbone's outputs, through the neck if there is one; a stride is None
    where the probe image's side is not a multiple of the map's. None if the
    backbone cannot run on the probe image (the run then reports its own
    error)."""
    from mmseg.registry import MODELS
    # no weights to download or read: only the architecture matters here
    backbone_cfg = without_pretrained(copy.deepcopy(segmentor['backbone']))
    modules = [MODELS.build(backbone_cfg)]
    if segmentor.get('neck') is not None:
        modules.append(
            MODELS.build(without_pretrained(copy.deepcopy(segmentor['neck']))))
    in_channels = backbone_cfg.get('in_channels', 3)
    if not isinstance(in_channels, int):
        in_channels = 3
    features: Any = torch.zeros(1, in_channels, PROBE_SIZE, PROBE_SIZE)
    for module in modules:
        module.eval()  # (mmseg's ResNet.train returns None: no chaining)
    try:
        with torch.no_grad():
            for module in modules:
                features = module(features)
    except Exception as error:  # noqa: BLE001  e.g. a fixed input size
        print_log(
            'Cannot check the heads\' in_channels: the backbone fails on a '
            f'{PROBE_SIZE}x{PROBE_SIZE} zero image ({type(error).__name__}: '
            f'{error}).', logger='current', level=logging.WARNING)
        return None
    if isinstance(features, torch.Tensor):
        features = [features]
    if not all(isinstance(f, torch.Tensor) and f.dim() == 4
               for f in features):
        return None
    return [(int(f.shape[1]), PROBE_SIZE // f.shape[-2]
             if PROBE_SIZE % f.shape[-2] == 0 else None) for f in features]


def _setting(value: Any, selected: tuple) -> Tuple[str, str]:
    """How to show ``selected`` in a message, and the ``--cfg-options``
    value that sets it, in the form (a sequence or one value) of the
    config's ``value``."""
    if isinstance(value, (list, tuple)):
        return repr(selected), '[' + ','.join(str(v) for v in selected) + ']'
    return str(selected[0]), str(selected[0])


def _check_strides(path: str, head: dict, in_index: Any,
                   strides: Sequence[Optional[int]], source: str) -> None:
    """For a head that takes ``feature_strides``: they must be the strides
    of the outputs that its ``in_index`` selects."""
    feature_strides = _argument(head, 'feature_strides')
    if feature_strides is None:
        return
    declared, index = _as_tuple(feature_strides), _as_tuple(in_index)
    selected = tuple(strides[i] for i in index)
    if len(declared) != len(index) or None in selected:
        return  # the head itself checks the length
    if declared != selected:
        shown, setting = _setting(feature_strides, selected)
        raise HeadChannelsError(
            f'{path}.feature_strides is {feature_strides!r}, which does not '
            f'match the output strides of the {source}: the outputs that '
            f'{path}.in_index={in_index!r} selects have '
            f'strides {shown} (all outputs: {tuple(strides)}; a dilated '
            f'backbone keeps several at one stride). Set '
            f'{path}.feature_strides={setting}.')


def _check_head(path: str, head: dict,
                outputs: Sequence[Tuple[int, Optional[int]]],
                source: str) -> None:
    channels = [c for c, _ in outputs]
    in_channels = _argument(head, 'in_channels')
    in_index = _argument(head, 'in_index')
    if in_channels is None or in_index is None:
        return
    declared, index = _as_tuple(in_channels), _as_tuple(in_index)
    if not all(isinstance(i, int) for i in declared + index):
        return
    if any(not -len(channels) <= i < len(channels) for i in index):
        raise HeadChannelsError(
            f'{path}.in_index is {in_index!r}, but the {source} gives only '
            f'{len(channels)} outputs (indices 0 to {len(channels) - 1}, '
            f'with {tuple(channels)} channels). Select existing outputs, or '
            "change the backbone's out_indices.")
    if len(declared) != len(index):
        return  # the head itself says that they must pair up
    selected = tuple(channels[i] for i in index)
    if declared != selected:
        shown, setting = _setting(in_channels, selected)
        raise HeadChannelsError(
            f'{path}.in_channels is {in_channels!r}, which does not match '
            f'the output channels of the {source}: the outputs that '
            f'{path}.in_index={in_index!r} selects have {shown} channels '
            f'(all outputs: {tuple(channels)}). Set {path}.in_channels='
            f'{setting}, or select other outputs with in_index.')
    _check_strides(path, head, in_index, [s for _, s in outputs], source)


def check_head_channels(cfg: Config) -> None:
    """Raises if a head's ``in_channels`` (or ``feature_strides``) differ
    from the channels (strides) of the backbone outputs it reads.

    Covers ``decode_head`` and ``auxiliary_head`` (single heads and lists),
    with a neck in between, inside wrappers such as ``SegTTAModel``. Costs
    building the backbone once (about a second for a ResNet-152).

    Args:
        cfg (Config): a run config; one without a segmentor is not checked.

    Raises:
        HeadChannelsError: naming the head's config key, its
            ``in_channels`` (``feature_strides``) and the backbone's output
            channels (strides).
    """
    model = cfg.get('model')
    if not isinstance(model, dict):
        return
    segmentor, path = _segmentor(model)
    if segmentor is None:
        return
    heads = list(_heads(segmentor, path))
    if not heads:
        return
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        outputs = _outputs(segmentor)
        if outputs is None:
            return
        source = 'neck' if segmentor.get('neck') is not None else 'backbone'
        source = f'{source} ({path}.{source})'
        for head_path, head in heads:
            _check_head(head_path, head, outputs, source)
