"""The book repository, and the shape of a catalogue search."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from application.ports.pages import Page, Position
from domain.books import Book
from domain.errors import RuleViolation
from domain.reviews import Review
from domain.tags import Tag, tag_key


class BookSort(StrEnum):
    NEWEST = "-created_at"
    OLDEST = "created_at"
    TITLE = "title"
    TITLE_DESC = "-title"
    RATING = "rating"  # lowest average first; books without reviews last
    RATING_DESC = "-rating"  # highest average first; books without reviews last


def search_key(text: str) -> str:
    """How titles and authors are matched and sorted: case-folded (stored so, as
    `title_key` and `author_key`)."""
    return text.casefold()


def _tag_filter_key(name: str) -> str:
    try:
        return tag_key(name)
    except RuleViolation:
        return name  # no tag has such a name: the list is empty, whatever its spelling


@dataclass(frozen=True, slots=True)
class BookQuery:
    """Filters combine with AND. `text` matches title or author, case-insensitively,
    as a plain substring (`%` and `_` are literal). `sort` None is the default order
    (newest first). A page starts `after` a position, or at `offset`."""

    text: str | None = None
    author: str | None = None  # whole name, case-insensitive
    language: str | None = None
    owner_uid: UUID | None = None
    tag: str | None = None  # a tag name, compared as tags are (case-insensitive)
    sort: BookSort | None = None
    limit: int = 20
    offset: int = 0
    after: Position | None = None

    @property
    def order(self) -> BookSort:
        return self.sort or BookSort.NEWEST

    def filters(self) -> dict[str, str]:
        """The filters (and sort) set, normalised: two queries that find the same books
        in the same order have the same filters."""
        found = {
            "q": None if self.text is None else search_key(self.text),
            "author": None if self.author is None else search_key(self.author),
            "language": None if self.language is None else self.language.lower(),
            "owner_uid": None if self.owner_uid is None else str(self.owner_uid),
            "tag": None if self.tag is None else _tag_filter_key(self.tag),
            "sort": None if self.sort is None else self.sort.value,
        }
        return {name: value for name, value in found.items() if value is not None}

    @classmethod
    def of_filters(
        cls, filters: Mapping[str, str], limit: int, offset: int = 0, after: Position | None = None
    ) -> BookQuery:
        """The query that `filters()` describes (normalised values find the same)."""
        owner = filters.get("owner_uid")
        return cls(
            text=filters.get("q"),
            author=filters.get("author"),
            language=filters.get("language"),
            owner_uid=UUID(owner) if owner else None,
            tag=filters.get("tag"),
            sort=BookSort(filters.get("sort", "-created_at")),
            limit=limit,
            offset=offset,
            after=after,
        )

    def counted_list(self) -> tuple[str, str | UUID] | None:
        """The list whose size the database keeps that this query's total is, if any:
        the whole catalogue, or exactly one of owner, language and tag."""
        equalities = {"owner": self.owner_uid, "language": self.language, "tag": self.tag}
        if self.text is not None or self.author is not None:
            return None
        given = [(name, value) for name, value in equalities.items() if value is not None]
        if not given:
            return ("books", "")
        if len(given) == 1:
            name, value = given[0]
            return (name, value.lower() if isinstance(value, str) and name == "language" else value)
        return None

    def with_owner(self, owner_uid: UUID) -> BookQuery:
        return dataclasses.replace(self, owner_uid=owner_uid)


def book_position(view: BookView, sort: BookSort) -> Position:
    """Where `view` stands in a list in `sort` order: its sort key, then its uid."""
    book = view.book
    if sort in (BookSort.NEWEST, BookSort.OLDEST):
        return (book.created_at, book.uid)
    if sort in (BookSort.TITLE, BookSort.TITLE_DESC):
        return (search_key(book.title), book.uid)
    return (view.average_rating, book.uid)


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

    async def detail(self, uid: UUID) -> BookDetail | None: ...

    async def lock(self, uid: UUID) -> bool:
        """Hold the book until the unit of work ends (False if there is no such book).

        Every change to a book's reviews takes this lock first, so its figures stay exact
        under concurrent reviews."""

    async def adjust_ratings(self, uid: UUID, count_delta: int, sum_delta: int) -> bool:
        """Move the book's review count and rating sum (and so its average), holding the
        book until the unit of work ends; False if there is no such book."""


class BookReads(Protocol):
    """The catalogue's read side: what readers ask for most, each in one statement,
    outside any unit of work."""

    async def detail(self, uid: UUID) -> BookDetail | None:
        """As `BookRepository.detail`."""

    async def search(self, query: BookQuery) -> Page[BookView]:
        """One page in `query.order` (ties broken by uid; books without reviews last in
        both rating orders), with `next_position` when more follow, and the total that
        match: exact when `query.counted_list()` names a kept count, else counted up to
        COUNT_BOUND (`total_exact` False beyond it)."""


class CatalogueWrites(Protocol):
    """The catalogue's most frequent writes, each atomic on its own: an adapter may run
    each as one statement in its own transaction rather than in a unit of work."""

    async def add_book(self, book: Book) -> None:
        """Store a new book (with no tags)."""

    async def add_review(self, review: Review) -> bool:
        """Store a new review and move its book's figures by it, both or neither; False
        (nothing stored) when the book does not exist. Raises ReviewExists when the
        user has reviewed the book already."""
