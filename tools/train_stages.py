"""Train every stage of a multi-stage schedule with one command.

Example::

    python tools/train_stages.py configs/gcn/gcn_r152-d32_cityscapes-2stage.py
    bash tools/dist_train.sh configs/gcn/gcn_r152-d32_cityscapes-2stage.py 4

Each stage trains in ``<work_dir>/stage<i>_<name>`` and starts from the
previous stage's final weights; rerunning the command skips finished stages
and resumes an interrupted one. See :mod:`mmseg_gcn.engine.stages`. It takes
the options of ``tools/train.py`` (``--amp``, ``--cfg-options``, ...) and
runs the same function, :func:`mmseg_gcn.engine.training.train`.

An error the user can fix (a bad schedule, missing data, a checkpoint that
cannot be used) ends it with an ``error: ...`` line and exit code 1, as
``tools/train.py`` does (:mod:`mmseg_gcn.engine.errors`).
"""
from mmseg_gcn.engine.distributed import exit_tool
from mmseg_gcn.engine.errors import run_reporting_errors
from mmseg_gcn.engine.training import parse_train_args, train_from_args


def main() -> None:
    train_from_args(
        parse_train_args('Train the stages of a schedule config in order',
                         'schedule config (lists `stages`)'),
        schedule_only=True)


if __name__ == '__main__':
    exit_tool(run_reporting_errors(main))
