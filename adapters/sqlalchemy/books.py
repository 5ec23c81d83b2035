"""Books in SQL, with SQLAlchemy Core: one statement per page and one for its total."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, delete, func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.tables import books
from application.ports.books import BookQuery, BookSort, Page
from domain.books import Book

COLUMNS = ("uid", "owner_uid", "title", "author", "publisher", "published_date", "page_count",
           "language", "created_at", "updated_at")
ORDER = {
    BookSort.NEWEST: (books.c.created_at.desc(), books.c.uid.desc()),
    BookSort.OLDEST: (books.c.created_at.asc(), books.c.uid.asc()),
    BookSort.TITLE: (books.c.title_key.asc(), books.c.uid.asc()),
    BookSort.TITLE_DESC: (books.c.title_key.desc(), books.c.uid.desc()),
}


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
    return found


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

    async def search(self, query: BookQuery) -> Page[Book]:
        where = conditions(query)
        rows = (await self._session.execute(
            select(*[books.c[name] for name in COLUMNS]).where(*where)
            .order_by(*ORDER[query.sort]).limit(query.limit).offset(query.offset)
        )).mappings().all()
        total = (await self._session.execute(
            select(func.count()).select_from(books).where(*where)
        )).scalar_one()
        return Page([to_book(row) for row in rows], total, query.limit, query.offset)
