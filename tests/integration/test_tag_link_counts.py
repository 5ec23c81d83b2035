"""Each tag's count in `tag_link_counts` (PostgreSQL, migration 0007) follows every way
links come and go, stays a handful of rows however many statements changed it, and never
makes two writers wait on each other."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import delete, text, update

from adapters.sqlalchemy.engine import create_engine, session_factory
from adapters.sqlalchemy.tables import book_tags, books
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from application.ports.books import BookQuery
from domain.books import Book
from domain.tags import Tag
from tests.integration.sql_fixtures import make_user, truncate_all

pytestmark = pytest.mark.postgres
NOW = datetime(2026, 1, 1, tzinfo=UTC)
FOLD_AFTER = 16  # as in migration 0007


@pytest.fixture
async def catalogue(postgres_database_url: str):
    """30 books and three tags, none attached; the engine's session factory."""
    engine = create_engine(postgres_database_url)
    await truncate_all(engine)
    sessions = session_factory(engine)
    owner = make_user()
    made = [Book(uuid.uuid4(), owner.uid, f"Title {n}", "Author", "Press", date(2000, 1, 1),
                 10, "en", NOW, NOW) for n in range(30)]
    tags = [Tag(uuid.uuid4(), name, NOW) for name in ("Fiction", "Poetry", "Drama")]
    async with SqlUnitOfWork(sessions) as uow:
        await uow.users.add(owner)
        await uow.books.add_many(made)
        await uow.tags.ensure([tag.name for tag in tags], tags)
        await uow.commit()
    yield sessions, made, [tag.uid for tag in tags]
    await engine.dispose()


async def kept_and_counted(sessions) -> tuple[dict, dict, dict]:
    """Per tag: the kept count, how many rows hold it, and the links counted."""
    async with SqlUnitOfWork(sessions) as uow:
        kept = (await uow.session.execute(text(
            "SELECT tag_uid, sum(links), count(*) FROM tag_link_counts GROUP BY tag_uid"
        ))).all()
        counted = (await uow.session.execute(text(
            "SELECT tag_uid, count(*) FROM book_tags GROUP BY tag_uid"))).all()
    return ({t: int(n) for t, n, _ in kept}, {t: rows for t, _, rows in kept},
            dict(counted))


async def test_counts_follow_attaching_detaching_and_every_cascade(catalogue) -> None:
    sessions, made, (fiction, poetry, drama) = catalogue
    for book in made:  # one statement per book: 30 changes to Fiction's count
        async with SqlUnitOfWork(sessions) as uow:
            await uow.tags.attach(book.uid, [fiction, poetry] if made.index(book) % 3 else
                                  [fiction])
            await uow.commit()
    async with SqlUnitOfWork(sessions) as uow:  # already attached: no change
        await uow.tags.attach(made[0].uid, [fiction, drama])
        await uow.commit()
    async with SqlUnitOfWork(sessions) as uow:  # rolled back: no change
        await uow.tags.attach(made[1].uid, [drama])
    kept, rows, counted = await kept_and_counted(sessions)
    assert kept == counted == {fiction: 30, poetry: 20, drama: 1}
    assert rows[fiction] <= FOLD_AFTER  # folded on the way: 31 statements touched it

    async with SqlUnitOfWork(sessions) as uow:
        assert await uow.tags.detach(made[1].uid, fiction)
        await uow.books.delete(made[2])  # its links go with it
        await uow.commit()
    async with SqlUnitOfWork(sessions) as uow:
        await uow.session.execute(update(book_tags).where(  # a link moved to another tag
            book_tags.c.book_uid == made[5].uid, book_tags.c.tag_uid == poetry).values(
            tag_uid=drama))
        await uow.commit()
    kept, rows, counted = await kept_and_counted(sessions)
    assert kept == counted == {fiction: 28, poetry: 18, drama: 2}

    async with SqlUnitOfWork(sessions) as uow:  # a deleted tag leaves no rows behind
        tag = await uow.tags.get(drama)
        assert tag is not None
        await uow.tags.delete(tag)
        await uow.commit()
    kept, rows, counted = await kept_and_counted(sessions)
    assert kept == counted == {fiction: 28, poetry: 18}

    async with SqlUnitOfWork(sessions) as uow:  # every link of a tag gone: no rows either
        await uow.session.execute(delete(book_tags).where(book_tags.c.tag_uid == poetry))
        await uow.session.execute(delete(books).where(books.c.uid == made[4].uid))
        await uow.commit()
    kept, rows, counted = await kept_and_counted(sessions)
    assert kept == counted == {fiction: 27}
    async with SqlUnitOfWork(sessions) as uow:
        page = await uow.books.search(BookQuery(tag="fiction", limit=5))
    assert page.total == 27 and len(page.items) == 5


async def test_a_bulk_insert_counts_once_per_tag_and_truncate_empties(catalogue) -> None:
    sessions, made, (fiction, poetry, _) = catalogue
    async with SqlUnitOfWork(sessions) as uow:
        await uow.session.execute(book_tags.insert(), [
            {"book_uid": book.uid, "tag_uid": tag} for book in made for tag in (fiction, poetry)])
        await uow.commit()
    kept, _rows, counted = await kept_and_counted(sessions)
    assert kept == counted == {fiction: 30, poetry: 30}
    async with SqlUnitOfWork(sessions) as uow:
        await uow.session.execute(text("TRUNCATE book_tags"))
        await uow.commit()
    assert await kept_and_counted(sessions) == ({}, {}, {})


async def test_writers_taking_the_same_tags_in_opposite_orders_never_wait(catalogue) -> None:
    """One row per tag moved by UPDATE would make the second writer wait for the first
    to commit (and deadlock were the first to go on with the other tag); appended rows
    make neither wait, whoever holds the fold's lock."""
    sessions, made, (fiction, poetry, drama) = catalogue
    for book in made[:FOLD_AFTER + 2]:  # enough rows that the next writer folds
        async with SqlUnitOfWork(sessions) as uow:
            await uow.tags.attach(book.uid, [fiction])
            await uow.commit()
    first = SqlUnitOfWork(sessions)
    async with first:
        await first.tags.attach(made[20].uid, [fiction, poetry])  # folds, holds the lock
        async with SqlUnitOfWork(sessions) as second:
            await second.session.execute(text("SET LOCAL lock_timeout = '2s'"))
            for tag in (poetry, fiction, drama):
                await second.tags.attach(made[21].uid, [tag])
            await asyncio.wait_for(second.commit(), 5)
        await first.commit()
    kept, _rows, counted = await kept_and_counted(sessions)
    assert kept == counted == {fiction: FOLD_AFTER + 4, poetry: 2, drama: 1}
