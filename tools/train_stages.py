"""Train every stage of a multi-stage schedule with one command.

Example::

    python tools/train_stages.py configs/gcn/gcn_r152-d32_cityscapes-2stage.py
    bash tools/dist_train.sh configs/gcn/gcn_r152-d32_cityscapes-2stage.py 4

Each stage trains in ``<work_dir>/stage<i>_<name>`` and starts from the
previous stage's final weights; rerunning the command skips finished stages
and resumes an interrupted one. See :mod:`mmseg_gcn.engine.stages`.
"""
import argparse
import sys

from mmengine.config import DictAction

from mmseg_gcn.engine import parse_args_with_launcher
from mmseg_gcn.engine.stages import StageError, run_schedule


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


def main() -> int:
    args = parse_args()
    try:
        run_schedule(
            args.schedule,
            work_dir=args.work_dir,
            cfg_options=args.cfg_options,
            launcher=args.launcher)
    except StageError as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
