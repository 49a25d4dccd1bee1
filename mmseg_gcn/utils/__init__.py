"""Small helpers every part of the package shares, each written once:
argument checks (:mod:`.checks`), writing a file atomically
(:mod:`.files`) and making a model config runnable here
(:mod:`.config_tree`)."""
from .checks import check_int
from .config_tree import replace_sync_bn, without_pretrained
from .files import TMP_SUFFIX, atomic_write, write_json_atomically

__all__ = [
    'TMP_SUFFIX', 'atomic_write', 'check_int', 'replace_sync_bn',
    'without_pretrained', 'write_json_atomically'
]
