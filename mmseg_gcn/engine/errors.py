"""How the training tools report errors a user can fix.

An expected error (a bad schedule, a checkpoint that is unsafe or cannot be
resumed from, missing data, a misspelt ``--cfg-options`` key, heads that do
not fit the backbone, a bad timeout, a peer process that stopped answering)
ends the tool with one ``error: ...`` line on stderr and exit code
1, without a traceback: the message names the file or setting and the fix.
Any other exception is a bug and keeps its traceback.
"""
import os
import sys
from typing import Callable, Optional

from .cfg_options import CfgOptionsError
from .checkpoint import UntrustedCheckpointError
from .distributed import DistTimeoutValueError, describe_collective_timeout
from .head_channels import HeadChannelsError
from .resume import ResumeCheckpointError
from .stages import StageError

#: Errors whose message is the whole story (data paths raise
#: FileNotFoundError naming the path).
EXPECTED_ERRORS = (StageError, UntrustedCheckpointError, ResumeCheckpointError,
                   CfgOptionsError, HeadChannelsError, DistTimeoutValueError,
                   FileNotFoundError)


def _expected_message(error: BaseException) -> Optional[str]:
    if isinstance(error, EXPECTED_ERRORS):
        return str(error)
    return describe_collective_timeout(error)


def run_reporting_errors(main: Callable[[], Optional[int]]) -> int:
    """Runs a tool's ``main`` and turns expected errors into an exit code.

    Args:
        main (callable): the tool's entry point; returns an exit code or
            None (0).

    Returns:
        int: ``main``'s exit code, or 1 after printing ``error: <message>``
        to stderr for an expected error (prefixed with the process's rank in
        multi-process runs, where each process reports its own).
    """
    try:
        return main() or 0
    except Exception as error:  # noqa: B902 -- anything else is re-raised
        message = _expected_message(error)
        if message is None:
            raise
    world_size = int(os.environ.get('WORLD_SIZE', '1'))
    if world_size > 1:
        message = (f"process {os.environ.get('RANK', '?')} of {world_size}: "
                   f'{message}')
    print(f'error: {message}', file=sys.stderr, flush=True)
    return 1


__all__ = ['EXPECTED_ERRORS', 'run_reporting_errors']
