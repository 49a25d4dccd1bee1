"""Train every stage of a multi-stage schedule with one command.

Example::

    python tools/train_stages.py configs/gcn/gcn_r152-d32_cityscapes-2stage.py
    bash tools/dist_train.sh configs/gcn/gcn_r152-d32_cityscapes-2stage.py 4

Each stage trains in ``<work_dir>/stage<i>_<name>`` and starts from the
previous stage's final weights; rerunning the command skips finished stages
and resumes an interrupted one. See :mod:`mmseg_gcn.engine.stages`.

An error the user can fix (a bad schedule, missing data, a checkpoint that
cannot be used) ends it with an ``error: ...`` line and exit code 1, as
``tools/train.py`` does (:mod:`mmseg_gcn.engine.errors`).
"""
import argparse

from mmengine.config import DictAction

from mmseg_gcn.engine import parse_args_with_launcher
from mmseg_gcn.engine.distributed import exit_tool
from mmseg_gcn.engine.errors import run_reporting_errors
from mmseg_gcn.engine.stages import run_schedule


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Train the stages of a schedule config in order')
    parser.add_argument('schedule', help='schedule config (lists `stages`)')
    parser.add_argument(
        '--work-dir',
        help='folder of the stage folders (default: '
        'work_dirs/<schedule name>)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='overrides in xxx=yyy format, applied to every stage config')
    return parse_args_with_launcher(parser)


def main() -> None:
    args = parse_args()
    run_schedule(
        args.schedule,
        work_dir=args.work_dir,
        cfg_options=args.cfg_options,
        launcher=args.launcher)


if __name__ == '__main__':
    exit_tool(run_reporting_errors(main))
