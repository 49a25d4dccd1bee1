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
from typing import Callable, Optional, Sequence, Tuple, Type

from .cfg_options import CfgOptionsError
from .checkpoint import UntrustedCheckpointError
from .distributed import DistTimeoutValueError, describe_collective_timeout
from .head_channels import HeadChannelsError
from .resume import ResumeCheckpointError
from .stages import StageError


class ToolError(RuntimeError):
    """An error the user can fix, found by a tool itself (e.g. a bad
    argument): its message names the file or option and the fix."""


#: Errors whose message is the whole story (data paths raise
#: FileNotFoundError naming the path).
EXPECTED_ERRORS = (ToolError, StageError, UntrustedCheckpointError,
                   ResumeCheckpointError, CfgOptionsError, HeadChannelsError,
                   DistTimeoutValueError, FileNotFoundError)


def _expected_message(error: BaseException,
                      expected: Tuple[Type[BaseException], ...]
                      ) -> Optional[str]:
    if isinstance(error, EXPECTED_ERRORS + expected):
        return str(error)
    return describe_collective_timeout(error)


def run_reporting_errors(main: Callable[[], Optional[int]],
                         expected: Sequence[Type[BaseException]] = ()) -> int:
    """Runs a tool's ``main`` and turns expected errors into an exit code.

    Every tool ends through this one function, so that an error the user can
    fix reads the same from each.

    Args:
        main (callable): the tool's entry point; returns an exit code or
            None (0).
        expected (Sequence[type]): the tool's own expected errors, beside
            :data:`EXPECTED_ERRORS` (e.g. ``ValueError`` for a tool whose
            argument checks raise it).

    Returns:
        int: ``main``'s exit code, or 1 after printing ``error: <message>``
        to stderr for an expected error (prefixed with the process's rank in
        multi-process runs, where each process reports its own).
    """
    try:
        return main() or 0
    except Exception as error:  # noqa: B902 -- anything else is re-raised
        message = _expected_message(error, tuple(expected))
        if message is None:
            raise
    world_size = int(os.environ.get('WORLD_SIZE', '1'))
    if world_size > 1:
        message = (f"process {os.environ.get('RANK', '?')} of {world_size}: "
                   f'{message}')
    print(f'error: {message}', file=sys.stderr, flush=True)
    return 1


__all__ = ['EXPECTED_ERRORS', 'ToolError', 'run_reporting_errors']
