"""The one way to train, behind ``tools/train.py``.

The tool's options (:func:`parse_train_args`) go to :func:`train`: a config
trains with one Runner (built by
:func:`~mmseg_gcn.engine.launch.build_runner`); a multi-stage schedule (a
config that lists ``stages``) trains every unfinished stage in order (see
:mod:`mmseg_gcn.engine.stages`). The tool ends through
:func:`~mmseg_gcn.engine.errors.run_reporting_errors`; a run stopped by a
stop signal (``SIGTERM``, ``SIGUSR1``) after its checkpoint exits with
:data:`~mmseg_gcn.engine.preemption.PREEMPTED_EXIT_CODE` (75).
"""
import argparse
import logging
import os
import sys
from typing import Optional

from mmengine.config import Config
from mmengine.logging import print_log

from .cfg_options import add_cfg_options_argument
from .launch import build_runner, load_run_config, parse_args_with_launcher
from .preemption import PREEMPTED_EXIT_CODE, TrainingPreempted, restart_count
from .resume import checkpoint_folder, find_resume_checkpoint
from .stages import TRAIN_DATALOADERS, is_schedule_config, run_schedule


def parse_train_args(description: str,
                     config_help: str) -> argparse.Namespace:
    """Parses a training tool's command line: a config, ``--work-dir``,
    ``--resume``, ``--amp``, ``--cfg-options`` and ``--launcher``.

    Args:
        description (str): the tool's description in ``--help``.
        config_help (str): the help of the config argument.

    Returns:
        argparse.Namespace: the parsed arguments, for
        :func:`train_from_args`.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('config', help=config_help)
    parser.add_argument(
        '--work-dir',
        help='the dir to save logs and models; for a schedule, the folder '
        'of its stage folders (default: work_dirs/<config name>)')
    parser.add_argument(
        '--resume',
        action='store_true',
        default=False,
        help='resume from the latest checkpoint in the work_dir '
        'automatically (a schedule always does: it skips finished stages '
        'and resumes an interrupted one)')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='enable automatic-mixed-precision training (in every stage of '
        'a schedule)')
    add_cfg_options_argument(parser, ' (in every stage config of a schedule)')
    return parse_args_with_launcher(parser)


def enable_amp(cfg: Config) -> None:
    """Switches the optimizer wrapper to automatic mixed precision.

    Args:
        cfg (Config): a run config whose ``optim_wrapper.type`` is
            ``'OptimWrapper'`` (or already ``'AmpOptimWrapper'``).
    """
    optim_wrapper = cfg.optim_wrapper.type
    if optim_wrapper == 'AmpOptimWrapper':
        print_log('AMP training is already enabled in your config.',
                  logger='current', level=logging.WARNING)
        return
    if optim_wrapper != 'OptimWrapper':
        raise ValueError('--amp needs optim_wrapper.type "OptimWrapper", but '
                         f'the config has {optim_wrapper!r}.')
    cfg.optim_wrapper.type = 'AmpOptimWrapper'
    cfg.optim_wrapper.loss_scale = 'dynamic'


def resume_from_work_dir(cfg: Config) -> None:
    """``--resume`` without ``load_from``: resumes from the work dir's last
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


def train(config: str,
          work_dir: Optional[str] = None,
          resume: bool = False,
          amp: bool = False,
          cfg_options: Optional[dict] = None,
          launcher: str = 'none') -> None:
    """Trains a config, or every unfinished stage of a schedule.

    Args:
        config (str): a config file, or a schedule (it lists ``stages``).
        work_dir (str, optional): overrides the config's ``work_dir``; for a
            schedule, the folder of its stage folders.
        resume (bool): resume from the work dir's last checkpoint. A
            schedule always resumes its interrupted stage.
        amp (bool): train with automatic mixed precision (every stage).
        cfg_options (dict, optional): ``--cfg-options`` overrides (applied
            to every stage config of a schedule).
        launcher (str): ``'none'``, ``'pytorch'``, ``'slurm'`` or ``'mpi'``.

    A job that torchrun restarted (``--max-restarts``) or slurm requeued
    resumes as with ``resume=True``. ``SIGTERM`` and ``SIGUSR1`` stop the run
    at the end of the current iteration, after a checkpoint, with
    :class:`~mmseg_gcn.engine.preemption.TrainingPreempted`
    (:mod:`mmseg_gcn.engine.preemption`).
    """
    cfg_hook = enable_amp if amp else None
    if is_schedule_config(config):
        run_schedule(config, work_dir=work_dir, cfg_options=cfg_options,
                     launcher=launcher, cfg_hook=cfg_hook)
        return
    cfg = load_run_config(
        config,
        launcher=launcher,
        work_dir=work_dir,
        cfg_options=cfg_options,
        dataloaders=TRAIN_DATALOADERS)
    if cfg_hook is not None:
        cfg_hook(cfg)
    restarts = restart_count()
    if restarts and not resume:
        print_log(f'restart {restarts} of this job (torchrun or slurm): '
                  'resuming from the work dir\'s last checkpoint',
                  logger='current', level=logging.WARNING)
        resume = True
    cfg.resume = resume
    if resume and cfg.get('load_from') is None:
        resume_from_work_dir(cfg)
    build_runner(cfg).train()


def train_from_args(args: argparse.Namespace) -> int:
    """:func:`train` with the options of :func:`parse_train_args`.

    Args:
        args (argparse.Namespace): the parsed command line.

    Returns:
        int: 0, or :data:`~mmseg_gcn.engine.preemption.PREEMPTED_EXIT_CODE`
        after a stop signal (the message is printed first, by rank 0).
    """
    try:
        train(args.config, work_dir=args.work_dir, resume=args.resume,
              amp=args.amp, cfg_options=args.cfg_options,
              launcher=args.launcher)
    except TrainingPreempted as stop:
        if os.environ.get('RANK', '0') == '0':
            print(f'preempted: {stop}', file=sys.stderr, flush=True)
        return PREEMPTED_EXIT_CODE
    return 0


__all__ = [
    'enable_amp', 'parse_train_args', 'resume_from_work_dir', 'train',
    'train_from_args'
]
