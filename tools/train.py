"""Train a segmentor: mmseg's ``tools/train.py`` with this package loaded.

On top of mmseg's script it registers ``mmseg_gcn``'s components, loads
checkpoints safely on torch >= 2.6, checks that the dataset exists before
building anything, and runs ``--launcher pytorch`` on CPU-only machines
(gloo), e.g. ``bash tools/dist_train.sh CONFIG 2``. ``--resume`` resumes only
from a checkpoint inside the work dir (see :mod:`mmseg_gcn.engine.resume`).
A multi-stage schedule config (one that lists ``stages``) trains every
unfinished stage in order (:func:`mmseg_gcn.engine.training.train`).

An error the user can fix (missing data, a checkpoint that cannot be used, a
bad schedule, a checkpoint that cannot be written) ends it with an
``error: ...`` line and exit code 1 (:mod:`mmseg_gcn.engine.errors`).
Checkpoints are written atomically; ``SIGTERM`` or ``SIGUSR1`` ends the run
after the current iteration and its checkpoint, with exit code 75
(:mod:`mmseg_gcn.engine.checkpoint_hook`).
"""
from mmseg_gcn.engine.checkpoint_writing import CheckpointWriteError
from mmseg_gcn.engine.distributed import exit_tool
from mmseg_gcn.engine.errors import run_reporting_errors
from mmseg_gcn.engine.training import parse_train_args, train_from_args


def main() -> int:
    return train_from_args(
        parse_train_args(
            'Train a segmentor',
            'train config file path, or a multi-stage schedule config '
            '(lists `stages`)'))


if __name__ == '__main__':
    exit_tool(run_reporting_errors(main, expected=(CheckpointWriteError, )))
