"""Argument checks shared by the models, data, analysis and tools."""
from numbers import Integral
from typing import Optional


def check_int(value: object, name: str, minimum: Optional[int] = None) -> int:
    """Checks that ``value`` is an integer (not a bool), at least ``minimum``.

    numpy integers count as integers; ``True`` and ``1.0`` do not.

    Args:
        value (object): The value to check.
        name (str): The argument name to use in the error message.
        minimum (int, optional): The smallest allowed value.

    Returns:
        int: ``value`` as a Python ``int``.

    Raises:
        ValueError: If ``value`` is not an integer, or is below ``minimum``.
    """
    if isinstance(value, bool) or not isinstance(value, Integral):
        bound = '' if minimum is None else f' >= {minimum}'
        raise ValueError(f'{name} must be an integer{bound}, got {value!r}.')
    if minimum is not None and value < minimum:
        raise ValueError(
            f'{name} must be an integer >= {minimum}, got {value!r}.')
    return int(value)
