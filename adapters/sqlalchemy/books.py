"""Books in SQL, with SQLAlchemy Core: the writes, and reads inside a unit of work.

The catalogue's pages and a book's detail are written once, in `catalogue.py`; a book's
links to its tags carry copies of its sort keys, and every write here that changes one
(title, rating figures) changes the copies in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from typing import cast as typing_cast
from uuid import UUID

from sqlalchemy import Float, Integer, bindparam, case, cast, delete, insert, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.catalogue import BOOK_COLUMNS, detail_statement, to_book, to_detail
from adapters.sqlalchemy.tables import book_tag_ratings, book_tags, books
from application.ports.books import BookDetail, search_key
from domain.books import Book

# Rows per multi-row INSERT of `add_many`: 12 parameters each, well under the limits of
# PostgreSQL (32,767 per statement) and SQLite (32,766).
BOOKS_PER_INSERT = 1000


# Statements of the hot writes, built once: building one costs more than running it.
BOOK_INSERT = insert(books).values(
    {
        name: bindparam(name, type_=books.c[name].type)
        for name in (*BOOK_COLUMNS, "title_key", "author_key")
    }
)
_COUNT = books.c.review_count + bindparam("count_delta", type_=Integer)
_TOTAL = books.c.rating_sum + bindparam("sum_delta", type_=Integer)
MOVED_RATINGS = (
    update(books)
    .where(books.c.uid == bindparam("book", type_=books.c.uid.type))
    .values(
        review_count=_COUNT,
        rating_sum=_TOTAL,
        average_rating=case((_COUNT > 0, cast(_TOTAL, Float) / _COUNT), else_=None),
    )
)
MOVE_RATINGS = MOVED_RATINGS.returning(books.c.average_rating)
COPY_RATING = (
    update(book_tag_ratings)
    .where(book_tag_ratings.c.book_uid == bindparam("book", type_=book_tag_ratings.c.book_uid.type))
    .values(average_rating=bindparam("average", type_=Float))
)


def book_values(book: Book) -> dict[str, Any]:
    values = {name: getattr(book, name) for name in BOOK_COLUMNS}
    values.update(title_key=search_key(book.title), author_key=search_key(book.author))
    return values


class SqlBookRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, book: Book) -> None:
        await self._session.execute(BOOK_INSERT, book_values(book))

    async def get(self, uid: UUID) -> Book | None:
        row = (
            (
                await self._session.execute(
                    select(*[books.c[name] for name in BOOK_COLUMNS]).where(books.c.uid == uid)
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else to_book(row)

    async def update(self, book: Book) -> None:
        values = book_values(book)
        del values["uid"], values["owner_uid"], values["created_at"]
        await self._session.execute(update(books).where(books.c.uid == book.uid).values(values))
        await self._session.execute(
            update(book_tags)
            .where(book_tags.c.book_uid == book.uid)
            .values(title_key=values["title_key"], language=values["language"])
        )
        await self._session.execute(
            update(book_tag_ratings)
            .where(book_tag_ratings.c.book_uid == book.uid)
            .values(language=values["language"])
        )

    async def delete(self, book: Book) -> None:
        await self._session.execute(delete(books).where(books.c.uid == book.uid))

    async def add_many(self, new_books: Sequence[Book]) -> int:
        """INSERT ... ON CONFLICT (uid) DO NOTHING RETURNING uid, given many rows at once:
        SQLAlchemy's "insertmanyvalues" sends them as multi-row INSERTs of
        BOOKS_PER_INSERT rows, from one compiled statement; the uids that come back are
        the books added."""
        bind = self._session.bind
        assert bind is not None  # sessions come from the engine's sessionmaker, bound to it
        dialect = bind.dialect.name
        insert_books = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(books)
        statement = (
            insert_books.on_conflict_do_nothing(index_elements=["uid"])
            .returning(books.c.uid)
            .execution_options(insertmanyvalues_page_size=BOOKS_PER_INSERT)
        )
        added = 0
        for start in range(0, len(new_books), BOOKS_PER_INSERT):
            chunk = [book_values(book) for book in new_books[start : start + BOOKS_PER_INSERT]]
            added += len((await self._session.execute(statement, chunk)).all())
        return added

    async def scan(
        self, after: tuple[datetime, UUID] | None, limit: int, owner_uid: UUID | None = None
    ) -> list[Book]:
        query = select(*[books.c[name] for name in BOOK_COLUMNS])
        if owner_uid is not None:
            query = query.where(books.c.owner_uid == owner_uid)
        if after is not None:
            position = tuple_(
                bindparam(None, after[0], type_=books.c.created_at.type),
                bindparam(None, after[1], type_=books.c.uid.type),
            )
            query = query.where(tuple_(books.c.created_at, books.c.uid) > position)
        rows = (
            (
                await self._session.execute(
                    query.order_by(books.c.created_at, books.c.uid).limit(limit)
                )
            )
            .mappings()
            .all()
        )
        return [to_book(row) for row in rows]

    async def detail(self, uid: UUID) -> BookDetail | None:
        bind = self._session.bind
        assert bind is not None  # sessions come from the engine's sessionmaker, bound to it
        statement = detail_statement(bind.dialect.name)
        row = (await self._session.execute(statement, {"uid": uid})).mappings().first()
        return None if row is None else to_detail(row)

    async def lock(self, uid: UUID) -> bool:
        """A no-op UPDATE: takes the row lock (PostgreSQL) or the write lock (SQLite) first."""
        result = await self._session.execute(
            update(books).where(books.c.uid == uid).values(review_count=books.c.review_count)
        )
        # An UPDATE gives a CursorResult, which `execute` is typed as Result.
        return bool(typing_cast(CursorResult[Any], result).rowcount)

    async def adjust_ratings(self, uid: UUID, count_delta: int, sum_delta: int) -> bool:
        moved = (
            await self._session.execute(
                MOVE_RATINGS, {"book": uid, "count_delta": count_delta, "sum_delta": sum_delta}
            )
        ).first()
        if moved is None:
            return False
        await self._session.execute(COPY_RATING, {"book": uid, "average": moved.average_rating})
        return True
