"""``--cfg-options`` that refuse keys the config does not have.

mmengine's ``Config.merge_from_dict`` adds whatever key it is given, so a
misspelt override (``train_cfg.max_iterss=1``, ``randomnes.seed=5``) is
silently ignored, or fails only when a component reads it, possibly after
hours of training (``default_hooks.checkpoint.intervall=1`` at the first
checkpoint save). :func:`merge_cfg_options` merges exactly as mmengine does,
after checking every key.

A key is known when

- the config has it;
- it is an argument of what the enclosing dict builds: the class its
  ``type`` names in mmseg's registries (e.g. ``model.backbone.stem_channels``
  of a ``ResNetV1c``, ``train_cfg.val_begin`` of an ``IterBasedTrainLoop``),
  or, for the fixed dicts mmengine reads without a ``type``, the dataloaders'
  ``DataLoader``, ``randomness``, ``env_cfg``, a segmentor's ``test_cfg``;
- at the top level, it is a setting mmengine's Runner reads (``randomness``,
  ``custom_hooks``, ``work_dir``, ...) or this package's ``crf_cfg``.

A key that starts with ``+`` (``--cfg-options +model.new_key=1``) is new on
purpose: it, its missing parents and everything below it are not checked.
Below a dict that an override replaces whole (``_delete_=True``) nothing is
checked either. List items are addressed by index
(``train_dataloader.dataset.datasets.0.data_root=...``), and the index must
exist.
"""
import argparse
import copy
import difflib
import fnmatch
import inspect
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from mmengine.config import Config, DictAction

#: Prefix of a ``--cfg-options`` key that adds a new key on purpose.
NEW_KEY_PREFIX = '+'
_DELETE_KEY = '_delete_'

#: Top-level settings mmengine's Runner reads besides its arguments, and the
#: package's own (``tools/test.py --crf`` reads ``crf_cfg``).
_EXTRA_TOP_LEVEL_KEYS = ('model_wrapper_cfg', 'sync_bn',
                         'find_unused_parameters', 'activation_checkpointing',
                         'efficient_conv_bn_eval', 'compile', 'runner_type',
                         'custom_imports', 'crf_cfg')

Path = Tuple[str, ...]


class CfgOptionsError(ValueError):
    """A ``--cfg-options`` key that the config does not have, or that cannot
    be set as written."""


class _Absent:
    """Stands for a config value that does not exist (yet)."""

    def __repr__(self) -> str:
        return '<absent>'


#: Below a valid key the config does not hold: nothing more to check.
_UNCHECKED = _Absent()
#: Below a missing parent of a ``+`` key: its other children are checked.
_MISSING = _Absent()


def _dotted(path: Path) -> str:
    return '.'.join(path)


def _named_args(target: Any) -> Set[str]:
    """Names of the arguments a class (all ``__init__`` in its MRO, as
    ``**kwargs`` usually reach the base classes) or function takes."""
    functions = ([c.__dict__['__init__'] for c in inspect.getmro(target)
                  if '__init__' in c.__dict__]
                 if inspect.isclass(target) else [target])
    names = set()
    for function in functions:
        try:
            parameters = inspect.signature(function).parameters.values()
        except (TypeError, ValueError):  # builtins without a signature
            continue
        names.update(
            p.name for p in parameters
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
            and p.name != 'self')
    return names


def _top_level_keys() -> Set[str]:
    from mmengine.runner import Runner
    return (_named_args(Runner) - {'cfg'}) | set(_EXTRA_TOP_LEVEL_KEYS)


def _fixed_dict_keys() -> Dict[str, Set[str]]:
    """Keys of the dicts mmengine and mmseg read without a ``type``, by
    dotted-path pattern."""
    import torch.distributed
    from mmengine.runner import (EpochBasedTrainLoop, IterBasedTrainLoop,
                                 LogProcessor, Runner, TestLoop, ValLoop)
    from torch.utils.data import DataLoader

    from ..models.segmentors.dense_crf import DenseCRF
    test_cfg = {'mode', 'crop_size', 'stride'}  # mmseg's EncoderDecoder
    return {
        # the Runner picks the loop from by_epoch when there is no type
        'train_cfg': (_named_args(EpochBasedTrainLoop)
                      | _named_args(IterBasedTrainLoop) | {'by_epoch'}),
        'val_cfg': _named_args(ValLoop),
        'test_cfg': _named_args(TestLoop),
        'log_processor': _named_args(LogProcessor),
        'auto_scale_lr': {'enable', 'base_batch_size'},
        '*_dataloader': _named_args(DataLoader) | {'num_batch_per_epoch'},
        'randomness': _named_args(Runner.set_randomness),
        'env_cfg': {'cudnn_benchmark', 'mp_cfg', 'dist_cfg', 'resource_limit'},
        'env_cfg.mp_cfg': {'mp_start_method', 'opencv_num_threads'},
        'env_cfg.dist_cfg': (_named_args(torch.distributed.init_process_group)
                             | {'init_backend'}),
        'model.test_cfg': test_cfg,
        'model.module.test_cfg': test_cfg,  # a SegTTAModel's segmentor
        'crf_cfg': _named_args(DenseCRF),
    }


def _registered_args(type_name: Any) -> Set[str]:
    """The arguments of what ``type_name`` names in mmseg's registries (of
    every registry that has the name); empty if none has it."""
    if not isinstance(type_name, str):
        return _named_args(type_name) if callable(type_name) else set()
    from mmengine.registry import Registry
    from mmseg.registry import registry as mmseg_registries
    names = set()
    for registry in vars(mmseg_registries).values():
        if isinstance(registry, Registry):
            target = registry.get(type_name)
            if target is not None:
                names |= _named_args(target)
    return names


class _KeyChecker:
    """Walks the overrides, as mmengine nests them, alongside the config."""

    def __init__(self, cfg: Config, options: Dict[str, Any],
                 new_paths: Sequence[Path]) -> None:
        self.cfg = cfg
        self.options = options
        self.new_paths = list(new_paths)
        self._top_level: Optional[Set[str]] = None
        self._fixed: Optional[Dict[str, Set[str]]] = None

    def check(self) -> None:
        tree: Dict[str, Any] = {}
        for key, value in copy.deepcopy(self.options).items():
            node = tree
            parts = key.split('.')
            for depth, part in enumerate(parts[:-1]):
                node = node.setdefault(part, {})
                if not isinstance(node, dict):
                    raise CfgOptionsError(
                        f'--cfg-options sets {_dotted(parts[:depth + 1])} '
                        f'whole and also {key} below it; give one of them.')
            node[parts[-1]] = value
        self._walk(tree, self.cfg.to_dict(), ())

    def _is_new_on_purpose(self, path: Path) -> bool:
        return any(path[:len(p)] == p for p in self.new_paths)

    def _leads_to_new_key(self, path: Path) -> bool:
        return any(p[:len(path)] == path for p in self.new_paths)

    def _fixed_keys(self, path: Path) -> Optional[Set[str]]:
        """The keys of a dict mmengine reads without a ``type`` at ``path``;
        None if it is not one."""
        if self._fixed is None:
            self._fixed = _fixed_dict_keys()
        matches = [keys for pattern, keys in self._fixed.items()
                   if fnmatch.fnmatchcase(_dotted(path), pattern)]
        return set().union(*matches) if matches else None

    def _known_keys(self, cfg_node: dict, options_node: dict,
                    path: Path) -> Set[str]:
        """Keys valid in ``cfg_node`` besides the ones it has."""
        known: Set[str] = set(self._fixed_keys(path) or ())
        if not path:
            if self._top_level is None:
                self._top_level = _top_level_keys()
            known |= self._top_level
        for type_name in (cfg_node.get('type'), options_node.get('type')):
            if type_name is not None:
                known |= _registered_args(type_name) | {'type', '_scope_'}
        return known

    def _option_key(self, path: Path) -> str:
        """The user's override that sets ``path`` or a key below it."""
        dotted = _dotted(path)
        return next((k for k in self.options
                     if k == dotted or k.startswith(dotted + '.')), dotted)

    def _unknown(self, path: Path, candidates: Iterable[str]) -> None:
        parent, key = path[:-1], path[-1]
        candidates = sorted(set(candidates))
        close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.6)
        if close:
            hint = f' Did you mean {_dotted(parent + (close[0], ))}?'
        elif candidates:
            shown = ', '.join(candidates[:15])
            more = ', ...' if len(candidates) > 15 else ''
            hint = f' Keys possible there: {shown}{more}.'
        else:
            hint = ''
        option = self._option_key(path)
        raise CfgOptionsError(
            f'--cfg-options {option}: {_dotted(path)} is not in the config '
            f'{self.cfg.filename}, nor an argument of what it '
            f'configures.{hint} To add a new key on purpose, start it with '
            f'{NEW_KEY_PREFIX!r}: --cfg-options {NEW_KEY_PREFIX}{option}=...')

    def _walk(self, options_node: dict, cfg_node: Any, path: Path) -> None:
        """Checks the keys of ``options_node`` against ``cfg_node``, the
        config's value at ``path``."""
        if options_node.get(_DELETE_KEY):
            return  # the whole value is replaced
        if not isinstance(cfg_node, (dict, list, _Absent)):
            raise CfgOptionsError(
                f'--cfg-options {self._option_key(path)}: {_dotted(path)} is '
                f'{cfg_node!r} in the config {self.cfg.filename}, not a dict '
                'or list, so it has no keys to set. Set it whole instead, or '
                'in a config that inherits this one.')
        for key, value in options_node.items():
            if key == _DELETE_KEY:
                continue
            child_path = path + (key, )
            if self._is_new_on_purpose(child_path):
                continue
            if isinstance(cfg_node, list):
                if not key.isdigit() or int(key) >= len(cfg_node):
                    raise CfgOptionsError(
                        f'--cfg-options {self._option_key(child_path)}: '
                        f'{_dotted(path)} is a list of {len(cfg_node)} '
                        f'items; address one by its index, 0 to '
                        f'{len(cfg_node) - 1}, e.g. {_dotted(path)}.0.KEY.')
                child = cfg_node[int(key)]
            elif isinstance(cfg_node, dict) and key in cfg_node:
                child = cfg_node[key]
            elif self._leads_to_new_key(child_path):
                child = _MISSING
            elif cfg_node is _MISSING:
                self._unknown(child_path, ())
            else:
                known = self._known_keys(cfg_node, options_node, path)
                if key not in known:
                    self._unknown(child_path, set(cfg_node) | known)
                # valid but not in the config: its keys are known only if
                # mmengine reads it as a fixed dict (e.g. randomness)
                child = {} if self._fixed_keys(child_path) else _UNCHECKED
            if isinstance(value, dict) and child is not _UNCHECKED:
                self._walk(value, child, child_path)


def add_cfg_options_argument(parser: argparse.ArgumentParser,
                             where: str = '') -> None:
    """Adds mmseg's ``--cfg-options`` to a tool's command line, with the
    rule :func:`merge_cfg_options` applies (unknown keys are refused).

    Args:
        parser (argparse.ArgumentParser): The tool's parser.
        where (str): Where the overrides apply, for the help text, e.g.
            ``' (in every stage config of a schedule)'``. Defaults to ''.
    """
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help=f'override settings of the config{where}, as xxx=yyy (a list '
        f'as key="[a,b]" or key=a,b); a key the config does not have is '
        f'refused: write +xxx=yyy to add one on purpose.')


def merge_cfg_options(cfg: Config, options: Optional[dict]) -> Config:
    """Merges ``--cfg-options`` into a config after checking their keys.

    Args:
        cfg (Config): the config, changed in place.
        options (dict, optional): ``{dotted key: value}`` as mmengine's
            ``DictAction`` parses them; a key starting with ``+`` adds a new
            key on purpose. Not changed.

    Returns:
        Config: ``cfg``.

    Raises:
        CfgOptionsError: if a key is neither in the config nor known (see
            the module's docstring), naming the closest existing key.
    """
    if not options:
        return cfg
    plain: Dict[str, Any] = {}
    new_paths: List[Path] = []
    for key, value in copy.deepcopy(dict(options)).items():
        if key.startswith(NEW_KEY_PREFIX):
            key = key[len(NEW_KEY_PREFIX):]
            new_paths.append(tuple(key.split('.')))
        if '' in key.split('.'):
            raise CfgOptionsError(
                f'--cfg-options {key!r}: a key is dotted names such as '
                'model.backbone.depth, without empty parts.')
        plain[key] = value
    _KeyChecker(cfg, plain, new_paths).check()
    cfg.merge_from_dict(plain)
    return cfg
