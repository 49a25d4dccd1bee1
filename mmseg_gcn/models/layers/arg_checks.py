"""Argument rules of the head's parts, each written once; the parts and
:class:`GCNHead` call them, so a bad value gets one message wherever it is
given."""
from typing import Sequence


def check_kernel_size(kernel_size: int, name: str = 'kernel_size') -> int:
    """Checks that a large-kernel size is an odd integer >= 3.

    'Same' padding of ``(k - 1) // 2`` on both sides keeps the map size only
    for odd ``k``; ``k = 1`` is the plain 1x1 classifier, not a large kernel.

    Args:
        kernel_size (int): The kernel size to check.
        name (str): The argument name to use in the error message.

    Returns:
        int: ``kernel_size`` unchanged.

    Raises:
        ValueError: If ``kernel_size`` is not an odd integer >= 3.
    """
    if (isinstance(kernel_size, bool) or not isinstance(kernel_size, int)
            or kernel_size < 3 or kernel_size % 2 == 0):
        raise ValueError(
            f'{name} must be an odd integer >= 3 (the convolution pads '
            f'(k - 1) // 2 pixels on each side to keep the map size), got '
            f'{kernel_size!r}; use an odd size such as 3, 7 or 15.')
    return kernel_size


def check_one_of(value: str, choices: Sequence[str], name: str,
                 advice: str) -> str:
    """Checks that ``value`` is one of ``choices``.

    Args:
        value (str): The value to check.
        choices (Sequence[str]): The allowed values.
        name (str): The argument name to use in the error message.
        advice (str): What each choice means, for the error message.

    Returns:
        str: ``value`` unchanged.

    Raises:
        ValueError: If ``value`` is not in ``choices``.
    """
    if value not in choices:
        raise ValueError(f'{name} must be one of {tuple(choices)}, got '
                         f'{value!r}; {advice}')
    return value
