"""Books in a dict; search mirrors the SQL adapter's semantics."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from application.ports.books import (
    NEWEST_REVIEWS,
    BookDetail,
    BookQuery,
    BookSort,
    BookView,
    book_position,
    search_key,
)
from application.ports.pages import Page, Position, bounded
from application.ports.persistence import UnitOfWorkFactory
from domain.books import Book
from domain.reviews import Review
from domain.tags import Tag, tag_key
from tests.fakes.reviews import Link, newest_first, paged
from tests.fakes.rows import StagedRows

Ratings = tuple[int, int]  # (review count, sum of ratings)
DESCENDING = {BookSort.NEWEST, BookSort.TITLE_DESC, BookSort.RATING_DESC}


class MemoryBookRepository:
    def __init__(
        self,
        rows: StagedRows[UUID, Book],
        reviews: StagedRows[UUID, Review],
        tags: StagedRows[UUID, Tag],
        links: StagedRows[Link, int],
        ratings: StagedRows[UUID, Ratings],
    ) -> None:
        self._rows, self._reviews, self._tags = rows, reviews, tags
        self._links, self._ratings = links, ratings

    async def add(self, book: Book) -> None:
        self._rows.put(book.uid, book)
        self._ratings.put(book.uid, (0, 0))

    async def get(self, uid: UUID) -> Book | None:
        return self._rows.get(uid)

    async def update(self, book: Book) -> None:
        self._rows.put(book.uid, book)

    async def delete(self, book: Book) -> None:
        self._rows.remove(book.uid)

    async def add_many(self, books: Sequence[Book]) -> int:
        new = [book for book in books if self._rows.get(book.uid) is None]
        for book in new:
            await self.add(book)
        return len(new)

    async def scan(
        self, after: tuple[datetime, UUID] | None, limit: int, owner_uid: UUID | None = None
    ) -> list[Book]:
        found = sorted(
            (
                b
                for b in self._rows.values()
                if (owner_uid is None or b.owner_uid == owner_uid)
                and (after is None or (b.created_at, b.uid) > after)
            ),
            key=lambda b: (b.created_at, b.uid),
        )
        return found[:limit]

    async def lock(self, uid: UUID) -> bool:
        return self._rows.get(uid) is not None

    async def adjust_ratings(self, uid: UUID, count_delta: int, sum_delta: int) -> bool:
        if self._rows.get(uid) is None:
            return False
        count, total = self._ratings.get(uid) or (0, 0)
        self._ratings.put(uid, (count + count_delta, total + sum_delta))
        return True

    async def search(self, query: BookQuery) -> Page[BookView]:
        """As the SQL adapter: totals exact for kept lists, else bounded."""
        views = [self._view(book) for book in self._rows.values() if _matches(book, query)]
        if query.tag is not None:
            wanted = tag_key(query.tag)
            views = [v for v in views if any(t.key == wanted for t in v.tags)]
        sort = query.order
        _sort(views, sort)
        total, exact = (len(views), True) if query.counted_list() else bounded(len(views))
        if query.after is not None:
            views = [v for v in views if _beyond(book_position(v, sort), query.after, sort)]
        return paged(
            views,
            query.limit,
            query.offset,
            query.after,
            total,
            exact,
            lambda view: book_position(view, sort),
        )

    async def detail(self, uid: UUID) -> BookDetail | None:
        book = self._rows.get(uid)
        if book is None:
            return None
        reviews = newest_first([r for r in self._reviews.values() if r.book_uid == uid])
        return BookDetail(self._view(book), reviews[:NEWEST_REVIEWS])

    def _view(self, book: Book) -> BookView:
        tags = [
            tag
            for book_uid, tag_uid in self._links.row_keys()
            if book_uid == book.uid and (tag := self._tags.get(tag_uid)) is not None
        ]
        count, total = self._ratings.get(book.uid) or (0, 0)
        return BookView(
            book,
            sorted(tags, key=lambda t: (t.key, t.uid)),
            count,
            total / count if count else None,
        )


def _beyond(position: Position, after: Position, sort: BookSort) -> bool:
    """Whether `position` comes after `after` in a list in `sort` order."""
    descending = sort in DESCENDING
    if sort in (BookSort.RATING, BookSort.RATING_DESC):
        unrated, after_unrated = position[0] is None, after[0] is None
        if unrated != after_unrated:
            return unrated  # the unrated books come after all the rated ones
        if unrated:
            position, after = position[1:], after[1:]
    return position < after if descending else position > after


class MemoryBookReads:
    """`BookReads` through a memory unit of work's book repository."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def detail(self, uid: UUID) -> BookDetail | None:
        async with self._uow() as uow:
            return await uow.books.detail(uid)

    async def search(self, query: BookQuery) -> Page[BookView]:
        async with self._uow() as uow:
            assert isinstance(uow.books, MemoryBookRepository)
            return await uow.books.search(query)


def _matches(book: Book, query: BookQuery) -> bool:
    if query.text is not None:
        needle = search_key(query.text)
        if needle not in search_key(book.title) and needle not in search_key(book.author):
            return False
    if query.author is not None and search_key(book.author) != search_key(query.author):
        return False
    if query.language is not None and book.language != query.language.lower():
        return False
    return query.owner_uid is None or book.owner_uid == query.owner_uid


def _sort(views: list[BookView], sort: BookSort) -> None:
    if sort in (BookSort.NEWEST, BookSort.OLDEST):
        views.sort(key=lambda v: (v.book.created_at, v.book.uid), reverse=sort is BookSort.NEWEST)
    elif sort in (BookSort.TITLE, BookSort.TITLE_DESC):
        views.sort(
            key=lambda v: (search_key(v.book.title), v.book.uid),
            reverse=sort is BookSort.TITLE_DESC,
        )
    else:
        rated = [v for v in views if v.average_rating is not None]
        unrated = [v for v in views if v.average_rating is None]
        rated.sort(
            key=lambda v: (v.average_rating, v.book.uid), reverse=sort is BookSort.RATING_DESC
        )
        unrated.sort(key=lambda v: v.book.uid, reverse=sort is BookSort.RATING_DESC)
        views[:] = rated + unrated
