"""A table's rows as one unit of work sees them: a private copy plus what it changed."""

from __future__ import annotations

import copy
from collections.abc import Hashable, Iterator
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


class StagedRows(Generic[K, T]):
    def __init__(self, committed: dict[K, T]) -> None:
        self._rows = copy.deepcopy(committed)
        self.touched: set[K] = set()
        self.removed: set[K] = set()

    def get(self, uid: K) -> T | None:
        return self._rows.get(uid)

    def put(self, uid: K, row: T) -> None:
        self._rows[uid] = row
        self.touched.add(uid)
        self.removed.discard(uid)

    def remove(self, uid: K) -> None:
        self._rows.pop(uid, None)
        self.removed.add(uid)
        self.touched.discard(uid)

    def values(self) -> Iterator[T]:
        return iter(list(self._rows.values()))

    def row_keys(self) -> Iterator[K]:
        return iter(list(self._rows))

    def merged_into(self, committed: dict[K, T]) -> dict[K, T]:
        """The committed rows with this unit's changes applied, row by row."""
        merged = dict(committed)
        for uid in self.touched:
            merged[uid] = copy.deepcopy(self._rows[uid])
        for uid in self.removed:
            merged.pop(uid, None)
        return merged
