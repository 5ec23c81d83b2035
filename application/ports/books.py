"""The book repository, and the shape of a catalogue search."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Generic, Protocol, TypeVar
from uuid import UUID

from domain.books import Book
from domain.reviews import Review
from domain.tags import Tag

T = TypeVar("T")


class BookSort(StrEnum):
    NEWEST = "-created_at"
    OLDEST = "created_at"
    TITLE = "title"
    TITLE_DESC = "-title"
    RATING = "rating"  # lowest average first; books without reviews last
    RATING_DESC = "-rating"  # highest average first; books without reviews last


@dataclass(frozen=True, slots=True)
class BookQuery:
    """Filters combine with AND. `text` matches title or author, case-insensitively,
    as a plain substring (`%` and `_` are literal)."""

    text: str | None = None
    author: str | None = None  # whole name, case-insensitive
    language: str | None = None
    owner_uid: UUID | None = None
    tag: str | None = None  # a tag name, compared as tags are (case-insensitive)
    sort: BookSort = BookSort.NEWEST
    limit: int = 20
    offset: int = 0


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True, slots=True)
class BookView:
    """A book as readers see it: with its tags and its reviews in figures."""

    book: Book
    tags: list[Tag]
    review_count: int
    average_rating: float | None


@dataclass(frozen=True, slots=True)
class BookDetail:
    view: BookView
    newest_reviews: list[Review]  # at most NEWEST_REVIEWS


NEWEST_REVIEWS = 10


class BookRepository(Protocol):
    async def add(self, book: Book) -> None: ...

    async def get(self, uid: UUID) -> Book | None: ...

    async def update(self, book: Book) -> None: ...

    async def delete(self, book: Book) -> None: ...

    async def add_many(self, books: Sequence[Book]) -> int:
        """Stage new books in bulk; a book whose uid is already stored is skipped (not
        changed). Returns how many were added."""

    async def scan(
        self, after: tuple[datetime, UUID] | None, limit: int, owner_uid: UUID | None = None
    ) -> list[Book]:
        """Up to `limit` books, oldest first (created_at, then uid), from just after the
        position `after` (the created_at and uid of the last book seen). Paging this way
        neither skips nor repeats a book while others write."""

    async def search(self, query: BookQuery) -> Page[BookView]:
        """One page in a stable order (ties broken by uid) and the total that match."""

    async def detail(self, uid: UUID) -> BookDetail | None: ...

    async def lock(self, uid: UUID) -> bool:
        """Hold the book until the unit of work ends (False if there is no such book).

        Every change to a book's reviews takes this lock first, so its figures stay exact
        under concurrent reviews."""

    async def adjust_ratings(self, uid: UUID, count_delta: int, sum_delta: int) -> None:
        """Move the book's review count and rating sum (and so its average)."""


class BookReads(Protocol):
    """The catalogue's read side: what readers ask for most, kept apart from the
    repository so that an adapter can answer each in one round trip (the PostgreSQL one
    does); the same answers as `BookRepository.detail` and `.search`."""

    async def detail(self, uid: UUID) -> BookDetail | None: ...

    async def search(self, query: BookQuery) -> Page[BookView]: ...
