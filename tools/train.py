"""Train a segmentor: mmseg's ``tools/train.py`` with this package loaded.

On top of mmseg's script it registers ``mmseg_gcn``'s components, loads
checkpoints safely on torch >= 2.6, checks that the dataset exists before
building anything, and runs ``--launcher pytorch`` on CPU-only machines
(gloo), e.g. ``bash tools/dist_train.sh CONFIG 2``. ``--resume`` resumes only
from a checkpoint inside the work dir (see :mod:`mmseg_gcn.engine.resume`).

An error the user can fix (missing data, a checkpoint that cannot be used, a
bad schedule) ends it with an ``error: ...`` line and exit code 1, as
``tools/train_stages.py`` does (:mod:`mmseg_gcn.engine.errors`).
"""
import argparse
import logging
import os

from mmengine.config import DictAction
from mmengine.logging import print_log
from mmengine.runner import Runner
from mmseg.registry import RUNNERS

from mmseg_gcn.engine import load_run_config, parse_args_with_launcher
from mmseg_gcn.engine.distributed import exit_tool
from mmseg_gcn.engine.errors import run_reporting_errors
from mmseg_gcn.engine.resume import checkpoint_folder, find_resume_checkpoint
from mmseg_gcn.engine.stages import is_schedule_config, run_schedule


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        action='store_true',
        default=False,
        help='resume from the latest checkpoint in the work_dir automatically')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='enable automatic-mixed-precision training')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file. If the value to '
        'be overwritten is a list, it should be like key="[a,b]" or key=a,b '
        'It also allows nested list/tuple values, e.g. key="[(a,b),(c,d)]" '
        'Note that the quotation marks are necessary and that no white space '
        'is allowed.')
    return parse_args_with_launcher(parser)


def enable_amp(cfg) -> None:
    """Switches the optimizer wrapper to automatic mixed precision."""
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


def resume_from_work_dir(cfg) -> None:
    """``--resume`` without ``load_from``: resumes from the work dir's last
    checkpoint, only inside the work dir, falling back to the newest intact
    one (mmengine would follow ``last_checkpoint`` anywhere)."""
    point = find_resume_checkpoint(cfg.work_dir,
                                   checkpoint_folder(cfg, cfg.work_dir))
    if point is None:
        return
    if os.environ.get('RANK', '0') == '0':
        for note in point.notes:
            print_log(note, logger='current', level=logging.WARNING)
    cfg.load_from = point.path


def main() -> None:
    args = parse_args()
    if is_schedule_config(args.config):
        # A multi-stage schedule (tools/train_stages.py): finished stages are
        # skipped and an interrupted one resumes, so --resume is implied.
        run_schedule(
            args.config,
            work_dir=args.work_dir,
            cfg_options=args.cfg_options,
            launcher=args.launcher,
            cfg_hook=enable_amp if args.amp else None)
        return
    cfg = load_run_config(
        args.config,
        launcher=args.launcher,
        work_dir=args.work_dir,
        cfg_options=args.cfg_options,
        dataloaders=('train_dataloader', 'val_dataloader'))
    if args.amp:
        enable_amp(cfg)
    cfg.resume = args.resume
    if args.resume and cfg.get('load_from') is None:
        resume_from_work_dir(cfg)

    runner = (Runner.from_cfg(cfg) if 'runner_type' not in cfg
              else RUNNERS.build(cfg))
    runner.train()


if __name__ == '__main__':
    exit_tool(run_reporting_errors(main))
