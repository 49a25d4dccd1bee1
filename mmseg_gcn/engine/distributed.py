"""Multi-process training and testing on machines without a GPU.

mmengine's ``init_dist(launcher='pytorch')`` calls ``torch.cuda.set_device``,
so ``--launcher pytorch`` fails on a CPU-only machine. DDP itself works there
with the ``gloo`` backend and a CPU module. :func:`setup_cpu_distributed`
prepares exactly that before the Runner is built: the Runner skips its own
initialisation when the process group already exists. On GPU machines nothing
changes (nccl, one GPU a process).
"""
import datetime
import logging
import os
from typing import Any

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.logging import print_log


def _replace_sync_bn(node: Any) -> int:
    """Replaces ``SyncBN`` norm configs by ``BN`` in place; returns how many.

    ``SyncBatchNorm`` only runs on GPU tensors, and mmseg's base configs use it.
    """
    replaced = 0
    if isinstance(node, dict):
        if node.get('type') == 'SyncBN':
            node['type'] = 'BN'
            replaced += 1
        for value in node.values():
            replaced += _replace_sync_bn(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            replaced += _replace_sync_bn(value)
    return replaced


def use_cpu_batch_norm(cfg: Config) -> None:
    """Makes a config's model runnable on CPU: ``SyncBN`` becomes ``BN``,
    and the log says so."""
    replaced = _replace_sync_bn(cfg.model)
    if replaced:
        print_log(
            f'No GPU: replaced SyncBN by BN in {replaced} norm config(s); '
            'each process normalises over its own batch.',
            logger='current', level=logging.WARNING)


def setup_cpu_distributed(cfg: Config, launcher: str) -> None:
    """Initialises a gloo process group for a CPU-only multi-process run.

    Call it before building the Runner. It does nothing on a machine with a
    GPU or when ``launcher`` is ``'none'``.

    Args:
        cfg (Config): the run's config; updated so the Runner wraps the CPU
            model in DDP without device ids.
        launcher (str): the ``--launcher`` argument.
    """
    if launcher == 'none' or torch.cuda.is_available():
        return
    if launcher != 'pytorch':
        raise ValueError(
            f"--launcher {launcher} needs GPUs; on a CPU-only machine use "
            "--launcher pytorch (tools/dist_train.sh does) or 'none'.")
    missing = [name for name in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR',
                                 'MASTER_PORT') if name not in os.environ]
    if missing:
        raise RuntimeError(
            f"--launcher pytorch needs {', '.join(missing)} in the "
            'environment: start the script with torchrun, e.g. '
            '`bash tools/dist_train.sh CONFIG 2`.')
    if not torch_dist.is_initialized():
        timeout = cfg.get('env_cfg', {}).get('dist_cfg', {}).get('timeout')
        kwargs = {}
        if timeout is not None:
            kwargs['timeout'] = datetime.timedelta(seconds=timeout)
        torch_dist.init_process_group(backend='gloo', **kwargs)
    cfg.model_wrapper_cfg = dict(
        type='MMDistributedDataParallel', device_ids=None,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    use_cpu_batch_norm(cfg)
