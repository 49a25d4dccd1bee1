"""Multi-stage training: one command trains every stage of a schedule.

A *schedule* is a config file that lists stage configs instead of a model::

    stages = [
        dict(name='coarse+fine', config='./stage1_config.py'),
        dict(name='fine', config='./stage2_config.py'),
    ]

(config paths are relative to the schedule file). :func:`run_schedule` trains
the stages in order, each in its own folder ``<work_dir>/stage<i>_<name>``:

- stage ``i + 1`` starts from stage ``i``'s final weights, weights only: a
  fresh optimizer, learning-rate schedule and iteration counter;
- a finished stage holds ``final.pth`` (its final weights, with the dataset
  meta, as mmseg's inference tools expect) and ``stage_done.json``, written
  atomically in that order; a rerun skips it;
- an interrupted stage resumes from its last checkpoint, found by
  :func:`~mmseg_gcn.engine.resume.find_resume_checkpoint`: only checkpoints
  inside the stage's own folder count (a copied work folder never uses the
  original's), the iteration comes from the checkpoint's ``meta['iter']``, and
  a truncated last checkpoint gives way to the newest intact one, saying so;
- a previous stage's final weights that are missing, changed since the stage
  finished (their SHA-256 is recorded) or unsafe to load stop the run with an
  error naming the file and how to recreate it.

A stop signal (``SIGTERM``, ``SIGUSR1``; see
:mod:`mmseg_gcn.engine.preemption`) ends a stage at the end of its current
iteration after a checkpoint, and never marks it finished: the rerun resumes
it in that stage. One that comes between stages ends the schedule before the
next stage starts.

In distributed runs every process runs the same stages; rank 0 decides what
to do with each stage and writes the stage files, the others follow. The
processes wait for each other at most ``env_cfg.dist_cfg.timeout`` seconds of
the first stage's config (default: see :mod:`mmseg_gcn.engine.distributed`).
"""
import copy
import os
import os.path as osp
import re
from typing import List, Optional

import torch
from mmengine.config import Config
from mmengine.dist import (all_reduce, barrier, broadcast_object_list,
                           get_rank, init_dist, is_distributed)
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmengine.runner.checkpoint import get_state_dict, weights_to_cpu

from ..datasets import check_dataset_paths
from .cfg_options import CfgOptionsError
from .checkpoint import load_local_checkpoint
from .checkpoint_writing import on_main_process
from .distributed import set_dist_timeout, setup_cpu_distributed
from .head_channels import HeadChannelsError, check_head_channels
from .launch import load_config
from .preemption import TrainingPreempted, stop_requested
from .run import TRAIN_DATALOADERS, free_memory, train_run
from .stage_files import (DONE_MARKER, FINAL_WEIGHTS, Stage, StageError,
                          latest_checkpoint, read_done_marker,
                          verify_final_weights, write_final_weights)

#: Config key that makes a config a schedule.
SCHEDULE_KEY = 'stages'


def _slug(name: str) -> str:
    """A folder-name-safe form of a stage name: 'coarse+fine' -> 'coarse-fine'."""
    return re.sub(r'[^A-Za-z0-9_.]+', '-', name).strip('-.').lower()


def is_schedule_config(path: str) -> bool:
    """Tells whether a config file is a schedule (it defines ``stages``).

    Args:
        path (str): a config file path; a missing file is not a schedule.

    Returns:
        bool: True for a schedule.
    """
    return osp.isfile(path) and SCHEDULE_KEY in Config.fromfile(path)


def load_schedule(path: str, work_dir: Optional[str] = None) -> List[Stage]:
    """Reads a schedule file and checks it.

    Args:
        path (str): the schedule config.
        work_dir (str, optional): folder of the stage folders. Defaults to
            the schedule's ``work_dir`` if it sets one, else
            ``./work_dirs/<schedule file name>``.

    Returns:
        list[Stage]: the stages, in order.

    Raises:
        StageError: if the file is not a valid schedule.
    """
    if not osp.isfile(path):
        raise StageError(f'Schedule file {path!r} does not exist.')
    cfg = Config.fromfile(path)
    entries = cfg.get(SCHEDULE_KEY)
    example = ("stages = [dict(name='coarse', config='./stage1.py'), "
               "dict(name='fine', config='./stage2.py')]")
    if not isinstance(entries, (list, tuple)) or not entries:
        raise StageError(f'{path}: `stages` must be a non-empty list of '
                         f'dicts, e.g. {example}')
    if work_dir is None:
        work_dir = cfg.get('work_dir') or osp.join(
            './work_dirs', osp.splitext(osp.basename(path))[0])
    base_dir = osp.dirname(osp.abspath(path))
    stages = []
    for index, entry in enumerate(entries, 1):
        if (not isinstance(entry, dict) or not isinstance(
                entry.get('name'), str) or not isinstance(
                    entry.get('config'), str) or not _slug(entry['name'])):
            raise StageError(
                f'{path}: stage {index} must be a dict with a `name` (letters '
                f'or digits) and a `config` path, e.g. {example}; got '
                f'{entry!r}.')
        unknown = set(entry) - {'name', 'config'}
        if unknown:
            raise StageError(f'{path}: stage {index} has unknown keys '
                             f'{sorted(unknown)}; a stage has `name` and '
                             '`config` only.')
        config = osp.normpath(osp.join(base_dir, entry['config']))
        if not osp.isfile(config):
            raise StageError(
                f"{path}: the config of stage {index} {entry['name']!r}, "
                f"{entry['config']!r}, does not exist (looked for {config}; "
                'paths are relative to the schedule file).')
        folder = f"stage{index}_{_slug(entry['name'])}"
        stages.append(
            Stage(index, len(entries), entry['name'], config,
                  osp.join(work_dir, folder)))
    return stages


def _plan(stage: Stage, previous: Optional[Stage],
          cfg_options: Optional[dict]) -> dict:
    """Decides what to do with a stage (on rank 0).

    Returns:
        dict: ``action`` is ``'skip'`` (finished), ``'finish'`` (its last
        checkpoint is at the end of its schedule: only the final weights are
        missing), ``'resume'`` (from ``checkpoint``) or ``'start'`` (from
        ``load_from``, None for the config's own); or ``error``. ``notes``
        say what was done about a checkpoint that could not be used.
    """
    try:
        if osp.isfile(stage.done_marker):
            read_done_marker(stage)
            return dict(action='skip')
        cfg = load_config(stage.config, copy.deepcopy(cfg_options))
        point = latest_checkpoint(stage, cfg)
        if point is not None:
            max_iters = cfg.get('train_cfg', {}).get('max_iters')
            action = ('finish' if max_iters is not None
                      and point.iteration >= max_iters else 'resume')
            return dict(action=action, checkpoint=point.path,
                        notes=list(point.notes))
        load_from = None
        if previous is not None:
            load_from = verify_final_weights(previous)
        return dict(action='start', load_from=load_from)
    except StageError as error:
        return dict(error=str(error))


def _broadcast(obj):
    """``obj`` of rank 0, on every rank."""
    if not is_distributed():
        return obj
    holder = [obj]
    broadcast_object_list(holder, src=0)
    return holder[0]


def _say(message: str) -> None:
    if get_rank() == 0:
        print(f'[schedule] {message}', flush=True)


def _init_distributed(cfg: Config, launcher: str) -> None:
    """Starts the process group before the first stage, so that rank 0's
    decisions reach the other ranks; each stage's Runner then uses it."""
    if launcher == 'none':
        return
    set_dist_timeout(cfg, launcher)
    setup_cpu_distributed(cfg, launcher)  # CPU only: gloo
    if not is_distributed():
        init_dist(launcher, **cfg.get('env_cfg', {}).get('dist_cfg', {}))


def _final_meta(runner: Runner) -> dict:
    dataset = getattr(runner.train_dataloader, 'dataset', None)
    meta = dict(iter=runner.iter, epoch=runner.epoch)
    if getattr(dataset, 'metainfo', None) is not None:
        meta['dataset_meta'] = copy.deepcopy(dict(dataset.metainfo))
    return meta


def _save_final_weights(stage: Stage, runner: Runner) -> str:
    """Writes the final weights of a stage that a Runner just trained."""
    model = runner.model
    if is_model_wrapper(model):
        model = model.module
    return write_final_weights(stage, weights_to_cpu(get_state_dict(model)),
                               _final_meta(runner))


def _finish_from_checkpoint(stage: Stage, checkpoint: str) -> str:
    """Writes the final weights of a stage whose training ended but was cut
    off before they were written (rank 0)."""
    saved = load_local_checkpoint(checkpoint, map_location='cpu')
    meta = saved.get('meta', {})
    meta = dict(iter=meta.get('iter'), epoch=meta.get('epoch'),
                **({'dataset_meta': meta['dataset_meta']}
                   if 'dataset_meta' in meta else {}))
    return write_final_weights(stage, saved['state_dict'], meta)


def _train_stage(stage: Stage, plan: dict, launcher: str,
                 cfg_options: Optional[dict], amp: bool) -> None:
    """Trains the stage as one run and writes its final weights."""
    if plan['action'] == 'resume':
        start = dict(resume=True, load_from=plan['checkpoint'])
    else:
        start = dict(resume=False, load_from=plan['load_from'])
    trained = train_run(
        stage.config,
        stage.work_dir,
        **start,
        keep_runner=True,
        run_name=osp.basename(stage.work_dir),
        amp=amp,
        cfg_options=copy.deepcopy(cfg_options),
        launcher=launcher)
    on_main_process(lambda: _save_final_weights(stage, trained.runner))
    trained.runner = None
    free_memory()


def _stop_if_signalled(previous: Optional[Stage]) -> None:
    """Ends the schedule before the next stage if a stop signal came
    (:mod:`mmseg_gcn.engine.preemption`), e.g. while the previous stage
    wrote its final weights."""
    signum = stop_requested()
    if is_distributed():
        flag = torch.tensor([signum], dtype=torch.int64)
        all_reduce(flag, op='max')
        signum = int(flag.item())
    if signum:
        raise TrainingPreempted(
            signum, None, previous.final_weights if previous else None)


def run_schedule(schedule: str,
                 work_dir: Optional[str] = None,
                 cfg_options: Optional[dict] = None,
                 launcher: str = 'none',
                 amp: bool = False) -> str:
    """Trains every unfinished stage of a schedule, in order.

    Args:
        schedule (str): the schedule config (it defines ``stages``).
        work_dir (str, optional): folder of the stage folders; see
            :func:`load_schedule`.
        cfg_options (dict, optional): ``--cfg-options`` overrides, applied to
            every stage's config.
        launcher (str): ``'none'``, ``'pytorch'``, ``'slurm'`` or ``'mpi'``.
        amp (bool): train every stage with automatic mixed precision.

    Returns:
        str: the last stage's final weights.

    Raises:
        StageError: on a bad schedule, missing data of an unfinished stage,
            missing or corrupt final weights of a previous stage, or an
            interrupted stage without a usable checkpoint.
    """
    stages = load_schedule(schedule, work_dir)
    # Check the overrides against every stage's config, and every unfinished
    # stage's data and heads, now, not after hours of training.
    configs = {}
    for stage in stages:
        try:
            configs[stage.index] = cfg = load_config(
                stage.config, copy.deepcopy(cfg_options))
            if not osp.isfile(stage.done_marker):
                check_dataset_paths(cfg, *TRAIN_DATALOADERS)
                check_head_channels(cfg)
        except (CfgOptionsError, FileNotFoundError,
                HeadChannelsError) as error:
            raise StageError(f'{stage.label} ({stage.config}): {error}') \
                from error
    _init_distributed(configs[stages[0].index], launcher)
    _say(f'{schedule}: {len(stages)} stages in '
         f'{osp.dirname(stages[0].work_dir) or "."}')

    previous = None
    for stage in stages:
        _stop_if_signalled(previous)
        plan = _broadcast(
            _plan(stage, previous, cfg_options) if get_rank() == 0 else None)
        if 'error' in plan:
            raise StageError(plan['error'])
        for note in plan.get('notes', ()):
            _say(f'{stage.label}: {note}')
        action = plan['action']
        if action == 'skip':
            _say(f'{stage.label}: finished earlier, skipped '
                 f'({stage.final_weights})')
        elif action == 'finish':
            _say(f'{stage.label}: training had ended at '
                 f'{plan["checkpoint"]}; writing its final weights')
            on_main_process(
                lambda: _finish_from_checkpoint(stage, plan['checkpoint']))
        else:
            os.makedirs(stage.work_dir, exist_ok=True)
            if action == 'resume':
                start = f'resuming from {plan["checkpoint"]}'
            elif plan['load_from'] is not None:
                start = (f'starting from the final weights of stage '
                         f'{previous.index}, {plan["load_from"]}')
            else:
                start = 'starting from its config\'s initial weights'
            _say(f'{stage.label}: training ({stage.config}) in '
                 f'{stage.work_dir}, {start}')
            _train_stage(stage, plan, launcher, cfg_options, amp)
            _say(f'{stage.label}: finished; final weights '
                 f'{stage.final_weights}')
        if is_distributed():
            barrier()  # the stage's files are written before anyone reads
        previous = stage
    _say(f'all {len(stages)} stages finished; final weights: '
         f'{stages[-1].final_weights}')
    return stages[-1].final_weights


__all__ = [
    'DONE_MARKER', 'FINAL_WEIGHTS', 'SCHEDULE_KEY', 'TRAIN_DATALOADERS',
    'Stage', 'StageError',
    'is_schedule_config', 'latest_checkpoint', 'load_schedule',
    'run_schedule', 'verify_final_weights', 'write_final_weights'
]
