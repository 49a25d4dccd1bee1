"""Edits of a model config tree that make it runnable here: no pretrained
weights to download, and ``BN`` where a config asks for ``SyncBN``."""
from typing import Any


def without_pretrained(node: Any) -> Any:
    """A copy of a config tree without pretrained weights: every
    ``pretrained`` key and every ``init_cfg`` of type ``Pretrained`` removed
    (nothing is downloaded or read).

    Args:
        node: A config tree (dicts, lists and tuples of values).

    Returns:
        The copy; leaves are shared, not copied.
    """
    if isinstance(node, (list, tuple)):
        return type(node)(without_pretrained(n) for n in node)
    if not isinstance(node, dict):
        return node
    return {
        key: without_pretrained(value)
        for key, value in node.items()
        if key != 'pretrained' and not (
            key == 'init_cfg' and isinstance(value, dict)
            and value.get('type') == 'Pretrained')
    }


def replace_sync_bn(node: Any) -> int:
    """Replaces ``SyncBN`` norm configs by ``BN`` in place: ``SyncBatchNorm``
    only runs on GPU tensors in a process group, and mmseg's base configs
    use it.

    Args:
        node: A config tree (dicts, lists and tuples of values).

    Returns:
        int: How many norm configs were replaced.
    """
    replaced = 0
    if isinstance(node, dict):
        if node.get('type') == 'SyncBN':
            node['type'] = 'BN'
            replaced += 1
        for value in node.values():
            replaced += replace_sync_bn(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            replaced += replace_sync_bn(value)
    return replaced
