"""Checks, before a run starts, that the folders and files a config names exist.

Without this, a missing data root surfaces as a bare ``FileNotFoundError`` or
an empty dataset deep inside the Runner, after the model has been built.
"""
import os.path as osp
from typing import Iterator, List, Tuple

from mmengine.config import ConfigDict

DATA_HELP = ('Prepare the dataset as README.md, "Datasets", describes, or make '
             'the synthetic demo data with `python tools/dataset_converters/'
             'generate_demo_data.py`; or point the config at your copy with '
             '--cfg-options.')


def leaf_datasets(dataset_cfg: dict) -> Iterator[dict]:
    """Yields the datasets that read files, looking through wrappers such as
    ``ConcatDataset`` (``datasets``) and ``RepeatDataset`` (``dataset``)."""
    if 'datasets' in dataset_cfg:
        for child in dataset_cfg['datasets']:
            yield from leaf_datasets(child)
    elif 'dataset' in dataset_cfg:
        yield from leaf_datasets(dataset_cfg['dataset'])
    else:
        yield dataset_cfg


def _paths_to_check(dataset_cfg: dict) -> List[Tuple[str, str, bool]]:
    """(what, path, is_dir) for the data root, prefixes and annotation file."""
    root = dataset_cfg.get('data_root') or ''
    paths = []
    if root:
        paths.append(('data_root', root, True))
    for key, prefix in (dataset_cfg.get('data_prefix') or {}).items():
        if prefix:
            paths.append((f'data_prefix.{key}', osp.join(root, prefix), True))
    ann_file = dataset_cfg.get('ann_file')
    if ann_file:
        paths.append(('ann_file', osp.join(root, ann_file), False))
    return paths


def check_dataset_paths(cfg: ConfigDict, *dataloader_keys: str) -> None:
    """Raises ``FileNotFoundError`` naming the first missing path.

    Args:
        cfg (ConfigDict): a full run config.
        *dataloader_keys (str): which dataloaders to check, e.g.
            ``'train_dataloader', 'val_dataloader'``; absent ones are skipped.
    """
    for key in dataloader_keys:
        loader = cfg.get(key)
        if not loader or 'dataset' not in loader:
            continue
        for dataset in leaf_datasets(loader['dataset']):
            for what, path, is_dir in _paths_to_check(dataset):
                exists = osp.isdir(path) if is_dir else osp.isfile(path)
                if not exists:
                    kind = 'folder' if is_dir else 'file'
                    raise FileNotFoundError(
                        f'{key}: the {kind} {path!r} ({dataset.get("type")} '
                        f'{what}) does not exist. {DATA_HELP}')
