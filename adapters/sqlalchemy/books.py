"""Books in SQL, with SQLAlchemy Core.

A page is three statements whatever its size: the books (with their figures), their
total, and the tags of the books on the page. A book's detail is three: the book, its
tags, its newest reviews."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    bindparam,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.reviews import NEWEST, REVIEW_COLUMNS, TAG_COLUMNS, to_review, to_tag
from adapters.sqlalchemy.tables import book_tags, book_totals, books, reviews, tags
from application.ports.books import (
    NEWEST_REVIEWS,
    BookDetail,
    BookQuery,
    BookSort,
    BookView,
    Page,
)
from domain.books import Book
from domain.tags import Tag, tag_key

COLUMNS = ("uid", "owner_uid", "title", "author", "publisher", "published_date", "page_count",
           "language", "created_at", "updated_at")
ORDER = {
    BookSort.NEWEST: (books.c.created_at.desc(), books.c.uid.desc()),
    BookSort.OLDEST: (books.c.created_at.asc(), books.c.uid.asc()),
    BookSort.TITLE: (books.c.title_key.asc(), books.c.uid.asc()),
    BookSort.TITLE_DESC: (books.c.title_key.desc(), books.c.uid.desc()),
    BookSort.RATING: (books.c.average_rating.asc().nulls_last(), books.c.uid.asc()),
    BookSort.RATING_DESC: (books.c.average_rating.desc().nulls_last(), books.c.uid.desc()),
}
# Rows per multi-row INSERT of `add_many`: 12 parameters each, well under the limits of
# PostgreSQL (32,767 per statement) and SQLite (32,766).
BOOKS_PER_INSERT = 1000
VIEW_COLUMNS = [books.c[name] for name in COLUMNS] + [books.c.review_count,
                                                      books.c.average_rating]


def search_key(text: str) -> str:
    return text.casefold()


def like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with `%`, `_` and `\\` taken literally."""
    escaped = search_key(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def book_values(book: Book) -> dict[str, Any]:
    values = {name: getattr(book, name) for name in COLUMNS}
    values.update(title_key=search_key(book.title), author_key=search_key(book.author))
    return values


def to_book(row: RowMapping) -> Book:
    return Book(**{name: row[name] for name in COLUMNS})


def conditions(query: BookQuery) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if query.text is not None:
        pattern = like_pattern(query.text)
        found.append(books.c.title_key.like(pattern, escape="\\")
                     | books.c.author_key.like(pattern, escape="\\"))
    if query.author is not None:
        found.append(books.c.author_key == search_key(query.author))
    if query.language is not None:
        found.append(books.c.language == query.language.lower())
    if query.owner_uid is not None:
        found.append(books.c.owner_uid == query.owner_uid)
    if query.tag is not None:
        found.append(exists().where(
            book_tags.c.book_uid == books.c.uid, book_tags.c.tag_uid == tags.c.uid,
            tags.c.name_key == tag_key(query.tag)))
    return found


def total_of(where: list[ColumnElement[bool]]) -> Select[tuple[int]]:
    """How many books match; the whole catalogue's size as the triggers of `book_totals`
    keep it (counted after all if its row is gone)."""
    counted = select(func.count()).select_from(books).where(*where)
    if where:
        return counted
    return select(func.coalesce(select(book_totals.c.books).scalar_subquery(),
                                counted.scalar_subquery()))


class SqlBookRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, book: Book) -> None:
        await self._session.execute(insert(books).values(book_values(book)))

    async def get(self, uid: UUID) -> Book | None:
        row = (await self._session.execute(
            select(*[books.c[name] for name in COLUMNS]).where(books.c.uid == uid)
        )).mappings().first()
        return None if row is None else to_book(row)

    async def update(self, book: Book) -> None:
        values = book_values(book)
        del values["uid"], values["owner_uid"], values["created_at"]
        await self._session.execute(update(books).where(books.c.uid == book.uid).values(values))

    async def delete(self, book: Book) -> None:
        await self._session.execute(delete(books).where(books.c.uid == book.uid))

    async def add_many(self, new_books: Sequence[Book]) -> int:
        """INSERT ... ON CONFLICT (uid) DO NOTHING RETURNING uid, given many rows at once:
        SQLAlchemy's "insertmanyvalues" sends them as multi-row INSERTs of
        BOOKS_PER_INSERT rows, from one compiled statement; the uids that come back are
        the books added."""
        dialect = self._session.bind.dialect.name
        insert_books = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(books)
        statement = (insert_books.on_conflict_do_nothing(index_elements=["uid"])
                     .returning(books.c.uid)
                     .execution_options(insertmanyvalues_page_size=BOOKS_PER_INSERT))
        added = 0
        for start in range(0, len(new_books), BOOKS_PER_INSERT):
            chunk = [book_values(book) for book in new_books[start:start + BOOKS_PER_INSERT]]
            added += len((await self._session.execute(statement, chunk)).all())
        return added

    async def scan(self, after: tuple[datetime, UUID] | None, limit: int,
                   owner_uid: UUID | None = None) -> list[Book]:
        query = select(*[books.c[name] for name in COLUMNS])
        if owner_uid is not None:
            query = query.where(books.c.owner_uid == owner_uid)
        if after is not None:
            position = tuple_(bindparam(None, after[0], type_=books.c.created_at.type),
                              bindparam(None, after[1], type_=books.c.uid.type))
            query = query.where(tuple_(books.c.created_at, books.c.uid) > position)
        rows = (await self._session.execute(
            query.order_by(books.c.created_at, books.c.uid).limit(limit))).mappings().all()
        return [to_book(row) for row in rows]

    async def search(self, query: BookQuery) -> Page[BookView]:
        where = conditions(query)
        rows = (await self._session.execute(
            select(*VIEW_COLUMNS).where(*where)
            .order_by(*ORDER[query.sort]).limit(query.limit).offset(query.offset)
        )).mappings().all()
        total = (await self._session.execute(total_of(where))).scalar_one()
        tags_of = await self._tags_of([row["uid"] for row in rows])
        return Page([to_view(row, tags_of.get(row["uid"], [])) for row in rows], total,
                    query.limit, query.offset)

    async def detail(self, uid: UUID) -> BookDetail | None:
        row = (await self._session.execute(
            select(*VIEW_COLUMNS).where(books.c.uid == uid))).mappings().first()
        if row is None:
            return None
        tags_of = await self._tags_of([uid])
        newest = (await self._session.execute(
            select(*REVIEW_COLUMNS).where(reviews.c.book_uid == uid)
            .order_by(*NEWEST).limit(NEWEST_REVIEWS))).mappings().all()
        return BookDetail(to_view(row, tags_of.get(uid, [])), [to_review(r) for r in newest])

    async def lock(self, uid: UUID) -> bool:
        """A no-op UPDATE: takes the row lock (PostgreSQL) or the write lock (SQLite) first."""
        result = await self._session.execute(
            update(books).where(books.c.uid == uid).values(review_count=books.c.review_count))
        return bool(result.rowcount)

    async def adjust_ratings(self, uid: UUID, count_delta: int, sum_delta: int) -> None:
        count = books.c.review_count + count_delta
        total = books.c.rating_sum + sum_delta
        await self._session.execute(update(books).where(books.c.uid == uid).values(
            review_count=count, rating_sum=total,
            average_rating=case((count > 0, cast(total, Float) / count), else_=None)))

    async def _tags_of(self, book_uids: list[UUID]) -> dict[UUID, list[Tag]]:
        if not book_uids:
            return {}
        rows = (await self._session.execute(
            select(book_tags.c.book_uid, *TAG_COLUMNS)
            .join(tags, tags.c.uid == book_tags.c.tag_uid)
            .where(book_tags.c.book_uid.in_(book_uids))
            .order_by(tags.c.name_key, tags.c.uid))).mappings().all()
        found: dict[UUID, list[Tag]] = {}
        for row in rows:
            found.setdefault(row["book_uid"], []).append(to_tag(row))
        return found


def to_view(row: RowMapping, book_tags_: list[Tag]) -> BookView:
    return BookView(to_book(row), book_tags_, row["review_count"], row["average_rating"])
