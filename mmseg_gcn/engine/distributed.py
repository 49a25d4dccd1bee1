"""Multi-process runs: the timeout of a hung run, and runs without a GPU.

**Timeout.** torch waits 30 minutes (gloo) for a collective operation whose
peer stopped or hung before it gives up. :func:`set_dist_timeout` gives every
multi-process run a default of :data:`DEFAULT_DIST_TIMEOUT` seconds (10
minutes) unless the config sets ``env_cfg.dist_cfg.timeout``; the environment
variable :data:`DIST_TIMEOUT_ENV` (``MMSEG_GCN_DIST_TIMEOUT``, in seconds)
changes the default. On the CPU path the timed-out process raises an error
that :func:`describe_collective_timeout` turns into a clear message; on GPUs
(nccl) torch's watchdog ends the process with its own
``Watchdog caught collective operation timeout`` message.

**No GPU.** mmengine's ``init_dist(launcher='pytorch')`` calls
``torch.cuda.set_device``, so ``--launcher pytorch`` fails on a CPU-only
machine. DDP itself works there with the ``gloo`` backend and a CPU module.
:func:`setup_cpu_distributed` prepares exactly that before the Runner is
built: the Runner skips its own initialisation when the process group already
exists. On GPU machines nothing changes (nccl, one GPU a process).

**Restarts.** torchrun's static rendezvous (``--master-addr`` and
``--master-port``, as ``tools/torchrun.sh`` and mmseg's ``dist_train.sh``
start it) keeps one key-value store for every ``--max-restarts`` attempt,
and torch 2.13's default (``env://``) initialisation does not keep the
attempts apart: restarted processes read the addresses that the processes
before them left in the store and fail or hang connecting.
:func:`setup_cpu_distributed` gives each attempt's keys their own prefix.
"""
import datetime
import logging
import os
import re
import sys
from typing import Any, Optional

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from torch.distributed.constants import default_pg_timeout
from mmengine.logging import print_log

from ..utils import replace_sync_bn
from .preemption import restart_count

#: Seconds a process waits for the others in a collective operation.
DEFAULT_DIST_TIMEOUT = 600
#: Environment variable that changes :data:`DEFAULT_DIST_TIMEOUT` (seconds).
DIST_TIMEOUT_ENV = 'MMSEG_GCN_DIST_TIMEOUT'
#: gloo's message when a peer does not answer in time.
_GLOO_TIMEOUT = re.compile(r'Timed out waiting (\d+)ms')


class DistTimeoutValueError(ValueError):
    """The timeout in the config or in :data:`DIST_TIMEOUT_ENV` is not a
    positive number of seconds."""


def _positive_seconds(value: Any, source: str) -> float:
    """``value`` as a number of seconds > 0; ``source`` names it in the
    error."""
    try:
        seconds = float(value)
        valid = not isinstance(value, bool) and 0 < seconds < float('inf')
    except (TypeError, ValueError):
        valid = False
    if not valid:
        raise DistTimeoutValueError(
            f'{source} is {value!r}; it must be a number of seconds > 0, '
            f'e.g. {DEFAULT_DIST_TIMEOUT}.')
    return seconds


def set_dist_timeout(cfg: Config, launcher: str) -> None:
    """Gives a multi-process run a timeout for its collective operations.

    Sets ``env_cfg.dist_cfg.timeout`` (seconds), which both mmengine's
    ``init_dist`` (GPUs) and :func:`setup_cpu_distributed` read, unless the
    config sets it: to ``$MMSEG_GCN_DIST_TIMEOUT`` if that is set, else to
    :data:`DEFAULT_DIST_TIMEOUT`. A stopped or hung process then ends the run
    after minutes instead of torch's 30.

    Args:
        cfg (Config): the run's config; updated in place.
        launcher (str): the ``--launcher`` argument; nothing is set for
            ``'none'``.

    Raises:
        DistTimeoutValueError: if the config's or the environment's timeout
            is not a positive number.
    """
    if launcher == 'none':
        return
    env_cfg = dict(cfg.get('env_cfg') or {})
    dist_cfg = dict(env_cfg.get('dist_cfg') or {})
    if dist_cfg.get('timeout') is not None:
        _positive_seconds(dist_cfg['timeout'], 'env_cfg.dist_cfg.timeout')
        return
    if os.environ.get(DIST_TIMEOUT_ENV):
        dist_cfg['timeout'] = _positive_seconds(
            os.environ[DIST_TIMEOUT_ENV], f'${DIST_TIMEOUT_ENV}')
    else:
        dist_cfg['timeout'] = DEFAULT_DIST_TIMEOUT
    env_cfg['dist_cfg'] = dist_cfg
    cfg.env_cfg = env_cfg


def describe_collective_timeout(error: BaseException) -> Optional[str]:
    """A message for an error that says a peer process did not answer in
    time (gloo's ``Timed out waiting <n>ms ...``, torch's ``DistError`` errors
    that say they timed out); None for any other error.

    Args:
        error (BaseException): an error raised during a run.

    Returns:
        str, optional: what happened and how to change the timeout.
    """
    text = str(error)
    gloo = _GLOO_TIMEOUT.search(text) if isinstance(error,
                                                   RuntimeError) else None
    dist_error = getattr(torch_dist, 'DistError', ())
    if gloo is None and not (isinstance(error, dist_error)
                             and 'timed out' in text.lower()):
        return None
    after = f' after {int(gloo.group(1)) / 1000:g} s' if gloo else ''
    first_line = text.strip().splitlines()[0] if text.strip() else ''
    return (f'a multi-process operation timed out{after} ({first_line}): '
            'another process of this run stopped, hung or died; its own '
            'output says why. If a step legitimately keeps the processes '
            'apart longer, raise the timeout with env_cfg.dist_cfg.timeout '
            f'in the config or {DIST_TIMEOUT_ENV}=SECONDS (default '
            f'{DEFAULT_DIST_TIMEOUT}).')


def use_cpu_batch_norm(cfg: Config) -> None:
    """Makes a config's model runnable on CPU: ``SyncBN`` becomes ``BN``,
    and the log says so."""
    replaced = replace_sync_bn(cfg.model)
    if replaced:
        print_log(
            f'No GPU: replaced SyncBN by BN in {replaced} norm config(s); '
            'each process normalises over its own batch.',
            logger='current', level=logging.WARNING)


def _this_attempts_store(
        timeout: datetime.timedelta) -> Optional[torch_dist.Store]:
    """torchrun's store seen through a prefix of this attempt of the job
    (see the module docstring); None when the launcher hosts no store for
    its processes (``TORCHELASTIC_USE_AGENT_STORE``)."""
    if os.environ.get('TORCHELASTIC_USE_AGENT_STORE') != 'True':
        return None
    store = torch_dist.TCPStore(
        os.environ['MASTER_ADDR'], int(os.environ['MASTER_PORT']),
        int(os.environ['WORLD_SIZE']), is_master=False, timeout=timeout)
    return torch_dist.PrefixStore(f'mmseg_gcn/attempt_{restart_count()}',
                                  store)


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
        seconds = cfg.get('env_cfg', {}).get('dist_cfg', {}).get('timeout')
        timeout = (default_pg_timeout if seconds is None else
                   datetime.timedelta(seconds=seconds))
        store = _this_attempts_store(timeout)
        if store is None:
            torch_dist.init_process_group(backend='gloo', timeout=timeout)
        else:
            torch_dist.init_process_group(
                backend='gloo', store=store, timeout=timeout,
                rank=int(os.environ['RANK']),
                world_size=int(os.environ['WORLD_SIZE']))
    cfg.model_wrapper_cfg = dict(
        type='MMDistributedDataParallel', device_ids=None,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    use_cpu_batch_norm(cfg)


def exit_tool(code: int) -> None:
    """Ends a tool's process with ``code``.

    In a multi-process run the interpreter's teardown is skipped (after
    flushing the output and the log files): there, torch's process-group
    threads can abort a process that has finished all its work ("terminate
    called without an active exception", exit code -6), which torchrun then
    reports as a failed run. A single-process run exits normally.

    Args:
        code (int): the exit status.
    """
    if not torch_dist.is_initialized():
        sys.exit(code)
    logging.shutdown()  # flushes and closes mmengine's log files
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(code)
