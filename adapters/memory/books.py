"""Books in a dict; search mirrors the SQL adapter's semantics."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from adapters.memory.reviews import Link, newest_first
from adapters.memory.rows import StagedRows
from application.ports.books import NEWEST_REVIEWS, BookDetail, BookQuery, BookSort, BookView, Page
from domain.books import Book
from domain.reviews import Review
from domain.tags import Tag, tag_key

Ratings = tuple[int, int]  # (review count, sum of ratings)


def search_key(text: str) -> str:
    """Case-insensitive form used for matching and sorting, as the SQL adapter stores it."""
    return text.casefold()


class MemoryBookRepository:
    def __init__(self, rows: StagedRows[UUID, Book], reviews: StagedRows[UUID, Review],
                 tags: StagedRows[UUID, Tag], links: StagedRows[Link, int],
                 ratings: StagedRows[UUID, Ratings]) -> None:
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

    async def scan(self, after: tuple[datetime, UUID] | None, limit: int,
                   owner_uid: UUID | None = None) -> list[Book]:
        found = sorted((b for b in self._rows.values()
                        if (owner_uid is None or b.owner_uid == owner_uid)
                        and (after is None or (b.created_at, b.uid) > after)),
                       key=lambda b: (b.created_at, b.uid))
        return found[:limit]

    async def lock(self, uid: UUID) -> bool:
        return self._rows.get(uid) is not None

    async def adjust_ratings(self, uid: UUID, count_delta: int, sum_delta: int) -> None:
        count, total = self._ratings.get(uid) or (0, 0)
        self._ratings.put(uid, (count + count_delta, total + sum_delta))

    async def search(self, query: BookQuery) -> Page[BookView]:
        views = [self._view(book) for book in self._rows.values() if _matches(book, query)]
        if query.tag is not None:
            wanted = tag_key(query.tag)
            views = [v for v in views if any(t.key == wanted for t in v.tags)]
        _sort(views, query.sort)
        return Page(views[query.offset:query.offset + query.limit], len(views),
                    query.limit, query.offset)

    async def detail(self, uid: UUID) -> BookDetail | None:
        book = self._rows.get(uid)
        if book is None:
            return None
        reviews = newest_first([r for r in self._reviews.values() if r.book_uid == uid])
        return BookDetail(self._view(book), reviews[:NEWEST_REVIEWS])

    def _view(self, book: Book) -> BookView:
        tags = [tag for book_uid, tag_uid in self._links.row_keys()
                if book_uid == book.uid and (tag := self._tags.get(tag_uid)) is not None]
        count, total = self._ratings.get(book.uid) or (0, 0)
        return BookView(book, sorted(tags, key=lambda t: (t.key, t.uid)), count,
                        total / count if count else None)


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
        views.sort(key=lambda v: (v.book.created_at, v.book.uid),
                   reverse=sort is BookSort.NEWEST)
    elif sort in (BookSort.TITLE, BookSort.TITLE_DESC):
        views.sort(key=lambda v: (search_key(v.book.title), v.book.uid),
                   reverse=sort is BookSort.TITLE_DESC)
    else:
        rated = [v for v in views if v.average_rating is not None]
        unrated = [v for v in views if v.average_rating is None]
        rated.sort(key=lambda v: (v.average_rating, v.book.uid),
                   reverse=sort is BookSort.RATING_DESC)
        unrated.sort(key=lambda v: v.book.uid, reverse=sort is BookSort.RATING_DESC)
        views[:] = rated + unrated
