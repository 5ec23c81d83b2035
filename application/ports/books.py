"""The book repository, and the shape of a catalogue search."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, Protocol, TypeVar
from uuid import UUID

from domain.books import Book

T = TypeVar("T")


class BookSort(StrEnum):
    NEWEST = "-created_at"
    OLDEST = "created_at"
    TITLE = "title"
    TITLE_DESC = "-title"


@dataclass(frozen=True, slots=True)
class BookQuery:
    """Filters combine with AND. `text` matches title or author, case-insensitively,
    as a plain substring (`%` and `_` are literal)."""

    text: str | None = None
    author: str | None = None  # whole name, case-insensitive
    language: str | None = None
    owner_uid: UUID | None = None
    sort: BookSort = BookSort.NEWEST
    limit: int = 20
    offset: int = 0


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class BookRepository(Protocol):
    async def add(self, book: Book) -> None: ...

    async def get(self, uid: UUID) -> Book | None: ...

    async def update(self, book: Book) -> None: ...

    async def delete(self, book: Book) -> None: ...

    async def search(self, query: BookQuery) -> Page[Book]:
        """One page in a stable order (ties broken by uid) and the total that match."""
