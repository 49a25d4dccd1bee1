"""The one path that turns a config into a trained run.

:func:`prepare_run` turns a config file plus a run's settings (work dir,
data root, iterations, seed, head overrides, run name, checkpoints, AMP,
``--cfg-options``, launcher) into the config the Runner is built from, and
checks it before any compute is spent. :func:`train_run` trains it with
mmengine's Runner and returns a :class:`TrainedRun`: where the run is, its
last checkpoint and the metrics of its last validation.

Every training in the package goes through them: ``tools/train.py`` (single
configs, and each stage of a schedule through
:mod:`mmseg_gcn.engine.stages`), the ablation study and the demo.
"""
import contextlib
import copy
import gc
import logging
import os
import os.path as osp
import time
from dataclasses import dataclass
from typing import Iterator, Optional, Sequence, Union

import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.logging import MMLogger, print_log
from mmengine.runner import Runner

from .launch import (build_runner, load_config, prepare_checked_run,
                     set_data_root, set_max_iters, set_work_dir)
from .precision import enable_amp
from .resume import checkpoint_folder, find_resume_checkpoint

#: The dataloaders a training run reads (their data is checked first).
TRAIN_DATALOADERS = ('train_dataloader', 'val_dataloader')

#: What :func:`prepare_run` does with the config's ``CheckpointHook``:
#: ``'config'`` keeps its settings, ``'final'`` keeps only the final
#: checkpoint, ``'none'`` saves none.
CHECKPOINT_POLICIES = ('config', 'final', 'none')


@dataclass
class TrainedRun:
    """What :func:`train_run` leaves.

    Attributes:
        cfg (Config): The run config it was trained with.
        work_dir (str): The run's folder.
        iters (int): The iteration training ended at.
        checkpoint (str, optional): The checkpoint saved at that iteration,
            None if none was.
        metrics (dict, optional): The metrics of the last validation, by
            mmseg's names (e.g. ``'mIoU'``), None if it never validated.
        metrics_iter (int, optional): The iteration of that validation.
        train_time_s (float): Seconds spent building and training.
        runner (Runner, optional): The Runner, with the trained model, if
            asked for (``keep_runner=True``); otherwise freed.
    """

    cfg: Config
    work_dir: str
    iters: int
    checkpoint: Optional[str]
    metrics: Optional[dict]
    metrics_iter: Optional[int]
    train_time_s: float
    runner: Optional[Runner] = None


def _keep_checkpoints(cfg: Config, policy: str) -> None:
    if policy not in CHECKPOINT_POLICIES:
        raise ValueError(f'checkpoints must be one of {CHECKPOINT_POLICIES}, '
                         f'got {policy!r}.')
    if policy == 'final':
        cfg.default_hooks.checkpoint.update(
            interval=cfg.train_cfg.max_iters, max_keep_ckpts=1,
            save_last=True)
    elif policy == 'none':
        cfg.default_hooks.checkpoint = None  # mmengine drops a None hook


def _name_run(cfg: Config, run_name: str) -> None:
    """Gives the run its own logger, message hub and visualizer: mmengine
    keys them by name, and a second run under a used name would log into
    the first one's."""
    name, n = run_name, 1
    while MMLogger.check_instance_created(name):
        n += 1
        name = f'{run_name}_{n}'
    cfg.experiment_name = name
    if isinstance(cfg.get('visualizer'), dict):
        cfg.visualizer['name'] = (
            f"{cfg.visualizer.get('name', 'visualizer')}_{name}")


def prepare_run(config: str,
                work_dir: Optional[str] = None,
                *,
                data_root: Optional[str] = None,
                iters: Optional[int] = None,
                validations: int = 1,
                seed: Optional[int] = None,
                head: Optional[dict] = None,
                run_name: Optional[str] = None,
                checkpoints: str = 'config',
                amp: bool = False,
                cfg_options: Optional[dict] = None,
                launcher: str = 'none',
                dataloaders: Sequence[str] = TRAIN_DATALOADERS) -> Config:
    """Loads a config as mmseg's tools do and makes it one run's config.

    Args:
        config (str): A config file (a schedule stands for its last stage;
            :mod:`~mmseg_gcn.engine.stages` runs a whole schedule).
        work_dir (str, optional): The run's folder; defaults to the config's
            ``work_dir``, else ``./work_dirs/<config name>``.
        data_root (str, optional): Points every dataset of the run at it.
        iters (int, optional): Training length; the learning-rate schedules
            that ended at the config's length end at this one.
        validations (int): With ``iters``: validations, equally spaced, the
            last at the end.
        seed (int, optional): The run's seed (``randomness.seed``).
        head (dict, optional): ``decode_head`` overrides.
        run_name (str, optional): Names the run's logger and visualizer
            (needed when one process trains several runs).
        checkpoints (str): ``'config'`` (the config's ``CheckpointHook``),
            ``'final'`` (only the final checkpoint) or ``'none'``.
        amp (bool): Automatic mixed precision: fp16 on a GPU, bf16 on CPU
            (:func:`~mmseg_gcn.engine.precision.enable_amp`).
        cfg_options (dict, optional): ``--cfg-options`` overrides; keys the
            config lacks are refused (:mod:`~mmseg_gcn.engine.cfg_options`).
        launcher (str): ``'none'``, ``'pytorch'``, ``'slurm'`` or ``'mpi'``.
        dataloaders (Sequence[str]): The dataloaders whose data must exist.

    Returns:
        Config: The run config, checked: the data exists and the heads take
        the backbone's outputs.
    """
    cfg = load_config(config, cfg_options)
    set_work_dir(cfg, config, work_dir)
    if data_root is not None:
        set_data_root(cfg, data_root)
    if head:
        cfg.model.decode_head.update(copy.deepcopy(head))
    if iters is not None:
        set_max_iters(cfg, iters, validations)
    if seed is not None:
        cfg.randomness = dict(cfg.get('randomness') or {}, seed=seed)
    _keep_checkpoints(cfg, checkpoints)
    if amp:
        enable_amp(cfg)
    if run_name is not None:
        _name_run(cfg, run_name)
    return prepare_checked_run(cfg, launcher, dataloaders)


def resume_from_work_dir(cfg: Config) -> None:
    """``resume`` without ``load_from``: resumes from the work dir's last
    checkpoint, only inside the work dir, falling back to the newest intact
    one (mmengine would follow ``last_checkpoint`` anywhere).

    Args:
        cfg (Config): a run config with ``work_dir``; its ``load_from`` is
            set to the checkpoint, if the work dir has one.
    """
    point = find_resume_checkpoint(cfg.work_dir,
                                   checkpoint_folder(cfg, cfg.work_dir))
    if point is None:
        return
    if os.environ.get('RANK', '0') == '0':
        for note in point.notes:
            print_log(note, logger='current', level=logging.WARNING)
    cfg.load_from = point.path


class _LastValidation(Hook):
    """Keeps the metrics of a run's last validation."""

    priority = 'LOWEST'

    def __init__(self) -> None:
        self.metrics: Optional[dict] = None
        self.iter: Optional[int] = None

    def after_val_epoch(self, runner, metrics=None) -> None:
        self.metrics, self.iter = dict(metrics or {}), runner.iter


@contextlib.contextmanager
def _output_to(log_file: Optional[str]) -> Iterator[None]:
    """Sends ``print`` and warnings (the Runner's console log) to a file;
    with None, leaves them on the console."""
    if log_file is None:
        yield
        return
    with open(log_file, 'a', encoding='utf-8') as f, \
            contextlib.redirect_stdout(f), contextlib.redirect_stderr(f):
        yield


def _close_logger(logger) -> None:
    """Closes a finished run's log handlers, which hold its files (and the
    redirected console stream) open."""
    for handler in list(logger.handlers):
        handler.close()
        logger.removeHandler(handler)


def train_run(run: Union[str, Config],
              work_dir: Optional[str] = None,
              *,
              resume: bool = False,
              load_from: Optional[str] = None,
              keep_runner: bool = False,
              log_file: Optional[str] = None,
              **settings) -> TrainedRun:
    """Trains one run with mmengine's Runner.

    Args:
        run (str | Config): A config file, prepared with ``work_dir`` and
            ``settings`` by :func:`prepare_run`, or a config it prepared.
        work_dir (str, optional): See :func:`prepare_run`.
        resume (bool): Resume: from ``load_from`` if given, else from the
            config's ``load_from``, else from the work dir's last intact
            checkpoint (:func:`resume_from_work_dir`), if it has one.
        load_from (str, optional): A checkpoint to start from (weights only,
            unless ``resume``).
        keep_runner (bool): Return the Runner, with the trained model; by
            default it is freed (model, optimizer, data workers).
        log_file (str, optional): Where the Runner's console output goes
            (its log handlers are closed at the end); None leaves it on the
            console.
        **settings: The other arguments of :func:`prepare_run`.

    Returns:
        TrainedRun: The run's folder, last checkpoint and final metrics.
    """
    if isinstance(run, Config):
        if work_dir is not None or settings:
            raise TypeError('train_run: a prepared config takes no work_dir '
                            'or run settings; give them to prepare_run.')
        cfg = run
    else:
        cfg = prepare_run(run, work_dir, **settings)
    cfg.resume = resume
    if load_from is not None:
        cfg.load_from = load_from
    elif resume and cfg.get('load_from') is None:
        resume_from_work_dir(cfg)

    start = time.perf_counter()
    last_validation = _LastValidation()
    with _output_to(log_file):
        runner = build_runner(cfg)
        try:
            runner.register_hook(last_validation)
            runner.train()
        finally:
            if log_file is not None:
                _close_logger(runner.logger)
    checkpoint = osp.join(checkpoint_folder(cfg, runner.work_dir),
                          f'iter_{runner.iter}.pth')
    trained = TrainedRun(
        cfg=cfg,
        work_dir=runner.work_dir,
        iters=runner.iter,
        checkpoint=checkpoint if osp.isfile(checkpoint) else None,
        metrics=last_validation.metrics,
        metrics_iter=last_validation.iter,
        train_time_s=time.perf_counter() - start,
        runner=runner if keep_runner else None)
    if not keep_runner:
        del runner
        free_memory()
    return trained


def free_memory() -> None:
    """Frees a finished run's model, optimizer and data workers before the
    next run of the same process."""
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


__all__ = [
    'CHECKPOINT_POLICIES', 'TRAIN_DATALOADERS', 'TrainedRun', 'free_memory',
    'prepare_run', 'resume_from_work_dir', 'train_run'
]
