"""The catalogue's size in `book_totals` follows every way books come and go, on SQLite
and PostgreSQL, and an unfiltered page's total is that size."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import delete, func, select, text

from adapters.sqlalchemy.tables import book_totals, books, users
from application.ports.books import BookQuery
from domain.books import Book
from tests.integration.sql_fixtures import make_user

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def a_book(owner: uuid.UUID, uid: uuid.UUID | None = None) -> Book:
    return Book(uid or uuid.uuid4(), owner, "Title", "Author", "Press", date(2000, 1, 1), 10,
                "en", NOW, NOW)


async def stored_and_counted(uow) -> tuple[int, int]:
    kept = (await uow.session.execute(select(book_totals.c.books))).scalar_one()
    counted = (await uow.session.execute(select(func.count()).select_from(books))).scalar_one()
    return kept, counted


async def test_the_size_follows_adds_bulk_adds_deletes_and_cascades(uow_factory: Any) -> None:
    owner, other = make_user(), make_user()
    async with uow_factory() as uow:
        await uow.users.add(owner)
        await uow.users.add(other)
        await uow.commit()
    async with uow_factory() as uow:
        first = a_book(owner.uid)
        for book in (first, a_book(owner.uid), a_book(other.uid)):
            await uow.books.add(book)
        await uow.commit()
    async with uow_factory() as uow:  # one stored already, one given twice: not counted
        bulk = [a_book(owner.uid) for _ in range(4)]
        assert await uow.books.add_many([*bulk, a_book(owner.uid, first.uid), bulk[0]]) == 4
        await uow.commit()
    async with uow_factory() as uow:
        assert await stored_and_counted(uow) == (7, 7)
        await uow.books.delete(first)
        await uow.commit()
    async with uow_factory() as uow:  # rolled back: no change
        await uow.books.add(a_book(owner.uid))
    async with uow_factory() as uow:
        await uow.session.execute(delete(users).where(users.c.uid == other.uid))  # cascades
        await uow.commit()
    async with uow_factory() as uow:
        assert await stored_and_counted(uow) == (5, 5)
        page = await uow.books.search(BookQuery(limit=2))
        assert page.total == 5 and len(page.items) == 2


async def test_a_missing_row_is_counted_instead(uow_factory: Any) -> None:
    owner = make_user()
    async with uow_factory() as uow:
        await uow.users.add(owner)
        await uow.books.add(a_book(owner.uid))
        await uow.session.execute(delete(book_totals))
        await uow.commit()
    async with uow_factory() as uow:
        assert (await uow.books.search(BookQuery())).total == 1


async def test_truncate_leaves_zero_on_postgresql(uow_factory: Any) -> None:
    owner = make_user()
    async with uow_factory() as uow:
        await uow.users.add(owner)
        await uow.books.add(a_book(owner.uid))
        await uow.commit()
    async with uow_factory() as uow:
        if uow.session.bind.dialect.name == "postgresql":
            await uow.session.execute(text("TRUNCATE books CASCADE"))
        else:
            await uow.session.execute(delete(books))
        await uow.commit()
    async with uow_factory() as uow:
        assert await stored_and_counted(uow) == (0, 0)
