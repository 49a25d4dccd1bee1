"""Small helpers every part of the package shares, each written once:
argument checks (:mod:`.checks`) and writing a file atomically
(:mod:`.files`)."""
from .checks import check_int
from .files import TMP_SUFFIX, atomic_write, write_json_atomically

__all__ = ['TMP_SUFFIX', 'atomic_write', 'check_int', 'write_json_atomically']
