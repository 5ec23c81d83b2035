"""The kept list sizes in `catalogue_counts` (migration 0009) follow every way rows come
and go, on SQLite and PostgreSQL, stay a few rows per list however many writes touched
it, and never make one writer wait for another."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import delete, select, text, update

from adapters.sqlalchemy.engine import create_engine, session_factory
from adapters.sqlalchemy.tables import books, tags, users
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from application.ports.books import BookQuery
from domain.books import Book
from domain.reviews import Review
from domain.tags import Tag
from tests.integration.sql_fixtures import assert_kept, kept_and_counted, make_user, truncate_all

NOW = datetime(2026, 1, 1, tzinfo=UTC)
FOLD_ONE_IN = 16  # as in migration 0009: statements, at random, that fold


def a_book(owner: uuid.UUID, language: str = "en") -> Book:
    return Book(
        uuid.uuid4(), owner, "Title", "Author", "Press", date(2000, 1, 1), 10, language, NOW, NOW
    )


async def test_kept_sizes_follow_every_write_and_stay_folded(uow_factory: Any) -> None:
    owner, other = make_user(), make_user()
    async with uow_factory() as uow:
        await uow.users.add(owner)
        await uow.users.add(other)
        await uow.commit()
    made = [a_book(owner.uid, "fr" if n % 3 else "en") for n in range(30)]
    for book in made:  # a statement each: more than enough for every list to fold
        async with uow_factory() as uow:
            await uow.books.add(book)
            await uow.commit()
    fiction = Tag(uuid.uuid4(), "Fiction", NOW)
    async with uow_factory() as uow:
        await uow.books.add_many([a_book(other.uid), made[0]])  # one of them there already
        await uow.tags.ensure(["Fiction"], [fiction])
        for book in made[:20]:
            await uow.tags.attach(book.uid, [fiction.uid])
        for book in made[:5]:
            await uow.reviews.add(Review.write(uuid.uuid4(), book.uid, other.uid, 4, "x", NOW))
        await uow.commit()
    async with uow_factory() as uow:  # rolled back: nothing counts
        await uow.books.add(a_book(owner.uid))
    await assert_kept(uow_factory)

    async with uow_factory() as uow:
        moved = made[1]
        moved.language = "de"  # a book that changes language moves between the lists
        await uow.books.update(moved)
        await uow.session.execute(
            update(books).where(books.c.uid == made[2].uid).values(owner_uid=other.uid)
        )
        await uow.books.delete(made[3])  # its links and reviews go with it
        assert await uow.tags.detach(made[4].uid, fiction.uid)
        await uow.commit()
    await assert_kept(uow_factory)
    async with uow_factory() as uow:  # cascades: a user's books and reviews, a tag's links
        await uow.session.execute(delete(users).where(users.c.uid == other.uid))
        await uow.session.execute(delete(tags).where(tags.c.uid == fiction.uid))
        await uow.commit()
    await assert_kept(uow_factory)


async def test_page_totals_are_the_kept_sizes(sql_book_reads, uow_factory: Any) -> None:
    owner = make_user()
    fiction = Tag(uuid.uuid4(), "Fiction", NOW)
    async with uow_factory() as uow:
        await uow.users.add(owner)
        await uow.books.add_many([a_book(owner.uid, "fr" if n % 2 else "en") for n in range(7)])
        await uow.tags.ensure(["Fiction"], [fiction])
        await uow.commit()
    async with uow_factory() as uow:
        uid = (await uow.session.execute(select(books.c.uid).limit(1))).scalar_one()
        await uow.tags.attach(uid, [fiction.uid])
        await uow.commit()
    reads = sql_book_reads
    for query, total in [
        (BookQuery(limit=2), 7),
        (BookQuery(language="FR"), 3),
        (BookQuery(owner_uid=owner.uid), 7),
        (BookQuery(tag="fiction"), 1),
        (BookQuery(tag="no such tag"), 0),
    ]:
        page = await reads.search(query)
        assert (page.total, page.total_exact) == (total, True), query


async def test_lists_are_folded_as_they_grow(uow_factory: Any) -> None:
    """A list appended to by 400 statements holds far fewer rows: about one statement in
    FOLD_ONE_IN folds it (none folding in 200 in a row has a chance of 1 in 400,000)."""
    owner = make_user()
    async with uow_factory() as uow:
        await uow.users.add(owner)
        await uow.commit()
    for _ in range(400):
        async with uow_factory() as uow:
            await uow.books.add(a_book(owner.uid))
            await uow.commit()
    assert await assert_kept(uow_factory) < 200


@pytest.fixture
async def postgres_sessions(postgres_database_url: str):
    """Sessions on this run's PostgreSQL database, emptied, with one user in it."""
    engine = create_engine(postgres_database_url)
    await truncate_all(engine)
    sessions = session_factory(engine)
    owner = make_user()
    async with SqlUnitOfWork(sessions) as uow:
        await uow.users.add(owner)
        await uow.commit()
    yield sessions, owner
    await engine.dispose()


async def kept_equals_counted(sessions) -> dict[str, int]:
    async with SqlUnitOfWork(sessions) as uow:
        kept, counted, _ = await kept_and_counted(uow.session)
    assert kept == counted
    return kept


@pytest.mark.postgres
async def test_truncate_empties_the_kept_sizes(postgres_sessions) -> None:
    sessions, owner = postgres_sessions
    async with SqlUnitOfWork(sessions) as uow:
        await uow.books.add(a_book(owner.uid))
        await uow.commit()
    async with SqlUnitOfWork(sessions) as uow:
        await uow.session.execute(text("TRUNCATE books CASCADE"))
        await uow.commit()
    assert await kept_equals_counted(sessions) == {"users": 1}


@pytest.mark.postgres
async def test_a_book_write_never_waits_for_another(postgres_sessions) -> None:
    """Every book write used to update one row (the catalogue's size): a second insert
    waited until the first committed. Now each appends rows of its own, and whoever
    folds holds nothing another writer waits for."""
    sessions, owner = postgres_sessions
    for _ in range(5):
        async with SqlUnitOfWork(sessions) as uow:
            await uow.books.add(a_book(owner.uid))
            await uow.commit()
    first = SqlUnitOfWork(sessions)
    async with first:
        await first.books.add(a_book(owner.uid))  # same owner, same language; uncommitted
        await first.session.execute(
            text(  # and it folds: holds the fold's lock and rows
                "SELECT catalogue_counts_fold_now(ARRAY(SELECT DISTINCT name "
                "FROM catalogue_counts))"
            )
        )
        async with SqlUnitOfWork(sessions) as second:
            await second.session.execute(text("SET LOCAL lock_timeout = '2s'"))
            await second.books.add(a_book(owner.uid))
            await asyncio.wait_for(second.commit(), 5)
        await first.commit()
    assert (await kept_equals_counted(sessions))["books"] == 7
