"""A table's rows as one unit of work sees them: a private copy plus what it changed."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Generic, TypeVar
from uuid import UUID

T = TypeVar("T")


class StagedRows(Generic[T]):
    def __init__(self, committed: dict[UUID, T]) -> None:
        self._rows = copy.deepcopy(committed)
        self.touched: set[UUID] = set()
        self.removed: set[UUID] = set()

    def get(self, uid: UUID) -> T | None:
        return self._rows.get(uid)

    def put(self, uid: UUID, row: T) -> None:
        self._rows[uid] = row
        self.touched.add(uid)
        self.removed.discard(uid)

    def remove(self, uid: UUID) -> None:
        self._rows.pop(uid, None)
        self.removed.add(uid)
        self.touched.discard(uid)

    def values(self) -> Iterator[T]:
        return iter(list(self._rows.values()))

    def merged_into(self, committed: dict[UUID, T]) -> dict[UUID, T]:
        """The committed rows with this unit's changes applied, row by row."""
        merged = dict(committed)
        for uid in self.touched:
            merged[uid] = copy.deepcopy(self._rows[uid])
        for uid in self.removed:
            merged.pop(uid, None)
        return merged
