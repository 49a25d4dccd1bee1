"""The command line of ``tools/train.py``.

The tool's options (:func:`parse_train_args`) go to :func:`train`: a config
trains as one run (:func:`~mmseg_gcn.engine.run.train_run`); a multi-stage
schedule (a config that lists ``stages``) trains every unfinished stage in
order, each as one run (see :mod:`mmseg_gcn.engine.stages`). The tool ends through
:func:`~mmseg_gcn.engine.errors.run_reporting_errors`; a run stopped by a
stop signal (``SIGTERM``, ``SIGUSR1``) after its checkpoint exits with
:data:`~mmseg_gcn.engine.preemption.PREEMPTED_EXIT_CODE` (75).
"""
import argparse
import logging
import os
import sys
from typing import Optional

from mmengine.logging import print_log

from .cfg_options import add_cfg_options_argument
from .launch import parse_args_with_launcher
from .preemption import PREEMPTED_EXIT_CODE, TrainingPreempted, restart_count
from .run import train_run
from .stages import is_schedule_config, run_schedule


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
    if is_schedule_config(config):
        run_schedule(config, work_dir=work_dir, cfg_options=cfg_options,
                     launcher=launcher, amp=amp)
        return
    restarts = restart_count()
    if restarts and not resume:
        print_log(f'restart {restarts} of this job (torchrun or slurm): '
                  'resuming from the work dir\'s last checkpoint',
                  logger='current', level=logging.WARNING)
        resume = True
    train_run(config, work_dir, resume=resume, amp=amp,
              cfg_options=cfg_options, launcher=launcher)


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


__all__ = ['parse_train_args', 'train', 'train_from_args']
