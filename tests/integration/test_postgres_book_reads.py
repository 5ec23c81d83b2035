"""The PostgreSQL read side answers exactly as the book repository does, on the same data;
and a connection the server dropped costs no error."""

from __future__ import annotations

import asyncio
import itertools
import random
import uuid
from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest
from sqlalchemy import update

from adapters.postgres.book_reads import PostgresBookReads
from adapters.postgres.pool import PostgresPool, asyncpg_dsn
from adapters.postgres.pool import is_unavailable_error as postgres_unavailable
from adapters.sqlalchemy.engine import create_engine, session_factory
from adapters.sqlalchemy.tables import books
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from application.ports.books import BookQuery, BookSort
from domain.books import Book
from domain.reviews import Review
from domain.tags import Tag
from tests.integration.sql_fixtures import make_user, truncate_all

pytestmark = pytest.mark.postgres
BASE = datetime(2025, 1, 1, tzinfo=UTC)
TAGS = ("Fiction", "Poetry", "Ünïcode", "rare")
WORDS = ("river", "stone", "50% off", "snake_case", "back\\slash", "Ωmega")


@pytest.fixture
async def stored(postgres_database_url: str):
    """~200 books with ties in time and rating, unrated ones, tags of every popularity
    and reviews; the repository's unit of work and the read adapter on the same data."""
    engine = create_engine(postgres_database_url)
    await truncate_all(engine)
    sessions = session_factory(engine)
    rng = random.Random(5)
    owners = [make_user() for _ in range(3)]
    async with SqlUnitOfWork(sessions) as uow:
        for owner in owners:
            await uow.users.add(owner)
        await uow.commit()
    tags = [Tag(uuid.uuid4(), name, BASE) for name in TAGS]
    made = [Book(uuid.uuid4(), rng.choice(owners).uid, f"{rng.choice(WORDS)} {n}",
                 f"Author {n % 7}", "Press", date(2000, 1, 1), 100 + n,
                 rng.choice(("en", "fr")), BASE + timedelta(minutes=n // 3), BASE)
            for n in range(200)]
    async with SqlUnitOfWork(sessions) as uow:
        await uow.books.add_many(made)
        await uow.tags.ensure([tag.name for tag in tags], tags)
        for n, book in enumerate(made):
            chosen = [tag.uid for tag in tags[:3] if rng.random() < (0.8, 0.3, 0.1)[
                tags.index(tag)]] + ([tags[3].uid] if n % 67 == 0 else [])
            if chosen:
                await uow.tags.attach(book.uid, chosen)
        for book in made[:150]:  # the rest stay unrated; few ratings, so many ties
            count = rng.randint(1, 3)
            total = sum(rng.randint(1, 5) for _ in range(count))
            await uow.session.execute(update(books).where(books.c.uid == book.uid).values(
                review_count=count, rating_sum=total, average_rating=total / count))
        reviewer = owners[0].uid
        for minute in range(14):  # more than a detail page shows, some at the same time
            await uow.reviews.add(Review(uuid.uuid4(), made[0].uid, reviewer if minute == 0
                                         else (await _reader(uow)), 4, f"review {minute}",
                                         BASE + timedelta(minutes=minute // 2), BASE))
        await uow.commit()
    pool = PostgresPool(postgres_database_url, max_size=2, timeout=2.0)
    yield sessions, PostgresBookReads(pool), made, pool
    await pool.close()
    await engine.dispose()


async def _reader(uow) -> uuid.UUID:
    user = make_user()
    await uow.users.add(user)
    await uow.session.flush()
    return user.uid


def _seen(page):
    return ([(v.book.__dict__, [t.__dict__ for t in v.tags], v.review_count, v.average_rating)
             for v in page.items], page.total, page.limit, page.offset)


async def test_every_filter_and_sort_finds_what_the_repository_finds(stored):
    sessions, reads, made, _ = stored
    owner = made[0].owner_uid
    filters = [{}, {"text": "50% OFF"}, {"text": "_case"}, {"text": "\\"}, {"author": "author 3"},
               {"language": "FR"}, {"owner_uid": owner}, {"tag": "fiction"}, {"tag": "RARE"},
               {"tag": "ünïcode", "language": "en"}, {"tag": "no such tag"},
               {"tag": "poetry", "text": "river", "owner_uid": owner}]
    pages = [(20, 0), (7, 5), (100, 0), (20, 10_000)]
    compared = 0
    for where, sort, (limit, offset) in itertools.product(filters, BookSort, pages):
        query = BookQuery(**where, sort=sort, limit=limit, offset=offset)
        async with SqlUnitOfWork(sessions) as uow:
            expected = await uow.books.search(query)
        assert _seen(await reads.search(query)) == _seen(expected), query
        compared += bool(expected.items)
    assert compared > 150  # most combinations found books: the comparison had substance


async def test_a_book_with_its_tags_and_newest_reviews(stored):
    sessions, reads, made, _ = stored
    for book in (made[0], made[1], made[199]):
        async with SqlUnitOfWork(sessions) as uow:
            expected = await uow.books.detail(book.uid)
        found = await reads.detail(book.uid)
        assert _seen_detail(found) == _seen_detail(expected)
    assert len(found.newest_reviews) == 0
    assert len((await reads.detail(made[0].uid)).newest_reviews) == 10
    assert await reads.detail(uuid.uuid4()) is None


def _seen_detail(detail):
    return (detail.view.book.__dict__, [t.__dict__ for t in detail.view.tags],
            detail.view.review_count, detail.view.average_rating,
            [r.__dict__ for r in detail.newest_reviews])


async def test_connections_the_server_dropped_are_replaced_without_an_error(stored,
                                                                           postgres_database_url):
    _, reads, made, _ = stored
    assert await reads.detail(made[0].uid) is not None  # the pool holds a connection now
    database = postgres_database_url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(asyncpg_dsn(postgres_database_url))
    try:
        ended = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid() AND application_name = ''",
            database)
    finally:
        await admin.close()
    assert ended >= 1
    for _ in range(3):  # no error: asyncpg's pool notices the closed connection, or the
        # statement fails on it and goes again on a fresh one
        assert (await reads.detail(made[0].uid)).view.book.uid == made[0].uid


async def test_the_pool_tells_its_size_and_what_is_in_use(postgres_database_url):
    pool = PostgresPool(postgres_database_url, max_size=2, timeout=2.0)
    try:
        assert (pool.size(), pool.in_use()) == (0, 0)  # nothing opened before first use
        sleeping = asyncio.create_task(pool.fetch("SELECT pg_sleep(0.3)"))
        for _ in range(100):
            await asyncio.sleep(0.01)
            if pool.in_use():
                break
        assert (pool.size(), pool.in_use()) == (1, 1)
        await sleeping
        assert (pool.size(), pool.in_use()) == (1, 0)
    finally:
        await pool.close()


async def _until(condition, within: float = 2.0) -> None:
    for _ in range(int(within / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


async def test_a_full_pool_makes_statements_wait_in_turn_then_gives_up(postgres_database_url):
    pool = PostgresPool(postgres_database_url, max_size=2, timeout=0.3)
    try:
        sleepers = [asyncio.create_task(pool.fetch("SELECT pg_sleep(0.6)")) for _ in range(2)]
        await _until(lambda: pool.in_use() == 2)
        with pytest.raises(TimeoutError) as waited:  # both busy for longer than the timeout
            await pool.fetchrow("SELECT 1")
        assert postgres_unavailable(waited.value)  # the caller answers 503
        assert pool.size() == 2
        await asyncio.gather(*sleepers)

        pool._timeout = 2.0
        order: list[int] = []

        async def numbered(number: int) -> None:
            await pool.fetch("SELECT pg_sleep(0.05)")
            order.append(number)

        busy = [asyncio.create_task(pool.fetch("SELECT pg_sleep(0.2)")) for _ in range(2)]
        await _until(lambda: pool.in_use() == 2)
        queued = []
        for number in range(4):  # they wait in this order, and get connections in it
            queued.append(asyncio.create_task(numbered(number)))
            await asyncio.sleep(0.01)
        await asyncio.gather(*busy, *queued)
        assert sorted(order[:2]) == [0, 1] and sorted(order[2:]) == [2, 3]
        assert (pool.size(), pool.in_use()) == (2, 0)  # never more than max_size
    finally:
        await pool.close()


async def test_a_place_freed_by_a_lost_connection_goes_to_a_waiter(postgres_database_url):
    pool = PostgresPool(postgres_database_url, max_size=1, timeout=3.0)
    admin = await asyncpg.connect(asyncpg_dsn(postgres_database_url))
    try:
        pid = await pool.fetchrow("SELECT pg_backend_pid() AS pid")
        holder = asyncio.create_task(pool.fetch("SELECT pg_sleep(2)"))
        await _until(lambda: pool.in_use() == 1)
        waiter = asyncio.create_task(pool.fetchrow("SELECT 42 AS answer"))
        await asyncio.sleep(0.05)
        await admin.execute("SELECT pg_terminate_backend($1)", pid["pid"])
        # the waiter opens a connection in the freed place at once, while the holder's
        # statement, ended under it, waits its turn to go again
        answer = await asyncio.wait_for(waiter, 1.0)
        assert answer["answer"] == 42 and not holder.done()
        await holder
        assert (pool.size(), pool.in_use()) == (1, 0)
    finally:
        await admin.close()
        await pool.close()


async def test_a_closed_pool_refuses_and_closes_what_comes_back(postgres_database_url):
    pool = PostgresPool(postgres_database_url, max_size=1, timeout=2.0)
    holder = asyncio.create_task(pool.fetch("SELECT pg_sleep(0.2)"))
    await _until(lambda: pool.in_use() == 1)
    waiter = asyncio.create_task(pool.fetchrow("SELECT 1"))
    await asyncio.sleep(0.02)
    await pool.close()
    with pytest.raises(asyncpg.InterfaceError):
        await waiter
    await holder
    assert pool.size() == 0
    with pytest.raises(asyncpg.InterfaceError):
        await pool.fetchrow("SELECT 1")
