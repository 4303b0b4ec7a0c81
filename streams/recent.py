"""A bounded memory of recently stored snapshot keys, to skip redeliveries without the database.

After a rebalance Faust redelivers whole partitions from their last commit; most of those
messages were stored moments ago by this very worker. Only keys of committed batches are
remembered, so a key found here is certainly in the database.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from streams.batch import SnapshotKey

__all__ = ["RecentKeys"]


class RecentKeys:
    """The ``capacity`` most recently stored keys; the oldest is forgotten first."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._keys: OrderedDict[SnapshotKey, None] = OrderedDict()

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def remember(self, keys: Iterable[SnapshotKey]) -> None:
        """Remember keys of a committed batch, forgetting the oldest beyond capacity."""
        for key in keys:
            self._keys[key] = None
            self._keys.move_to_end(key)
        while len(self._keys) > self._capacity:
            self._keys.popitem(last=False)
