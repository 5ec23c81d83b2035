"""Migrated SQLite and PostgreSQL databases for the SQL adapters' tests.

`migrated_sqlite_url`, `truncate_all` and `make_user` are plain helpers that other suites (the API
tests) reuse; the fixtures below are registered by `tests/integration/conftest.py`.
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import Connection, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.sqlalchemy.book_reads import PoolRows, SqlBookReads, rows_for
from adapters.sqlalchemy.engine import create_engine, session_factory
from adapters.sqlalchemy.tables import books, catalogue_counts, reviews, tags, users
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from application.ports.persistence import UnitOfWorkFactory
from domain.users import User
from migrations import upgrade_to_head

SQL_BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


async def migrated_sqlite_url(tmp_path: Path) -> str:
    """A SQLite database file in `tmp_path`, migrated to head."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'bookly.db'}"
    await asyncio.to_thread(upgrade_to_head, url)
    return url


def make_user(**fields: Any) -> User:
    """A valid, unsaved user with unique email and username; `fields` override."""
    tag = uuid4().hex[:8]
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "uid": uuid4(),
        "email": f"reader-{tag}@example.com",
        "username": f"Reader_{tag}",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "password_hash": "$argon2id$x",
        "created_at": now,
        "updated_at": now,
    }
    return User(**(values | fields))


async def truncate_all(engine: AsyncEngine) -> None:
    """Empty every table but Alembic's, on PostgreSQL or SQLite, as freshly migrated."""
    async with engine.begin() as connection:
        names = await connection.run_sync(_tables_children_first)
        if not names:
            return
        quote = connection.dialect.identifier_preparer.quote
        if connection.dialect.name == "postgresql":
            await connection.execute(
                text(f"TRUNCATE {', '.join(map(quote, names))} RESTART IDENTITY CASCADE")
            )
        else:  # the kept counts last: deleting the rows they count appends to them
            for name in sorted(names, key=lambda name: name == "catalogue_counts"):
                await connection.execute(text(f"DELETE FROM {quote(name)}"))


def _tables_children_first(connection: Connection) -> list[str]:
    ordered = inspect(connection).get_sorted_table_and_fkc_names()
    names = [name for name, _ in ordered if name is not None and name != "alembic_version"]
    return names[::-1]


@pytest.fixture(scope="session")
async def sqlite_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return await migrated_sqlite_url(tmp_path_factory.mktemp("sqlite"))


@pytest.fixture(scope="session")
async def postgres_database_url(postgres_url: str) -> str:
    await asyncio.to_thread(upgrade_to_head, postgres_url)
    return postgres_url


@pytest.fixture(scope="session", params=SQL_BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str:
    """A migrated database: each test that uses it runs on SQLite and on PostgreSQL."""
    return str(request.getfixturevalue(f"{request.param}_database_url"))


@pytest.fixture(scope="session")
async def sql_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def sql_book_reads(database_url: str, sql_engine: AsyncEngine) -> AsyncIterator[SqlBookReads]:
    """The catalogue's reads as the service makes them: on PostgreSQL on a pool of their
    own, on SQLite on the engine."""
    rows = rows_for(database_url, sql_engine, size=2, timeout=5.0)
    yield SqlBookReads(rows)
    if isinstance(rows, PoolRows):
        await rows.aclose()


@pytest.fixture
async def sql_sessions(sql_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """A session factory on a database emptied for this test."""
    await truncate_all(sql_engine)
    return session_factory(sql_engine)


@pytest.fixture
def uow_factory(sql_sessions: async_sessionmaker[AsyncSession]) -> UnitOfWorkFactory:
    """`async with uow_factory() as uow:`, each with its own session."""
    return functools.partial(SqlUnitOfWork, sql_sessions)


async def assert_kept(uow_factory: Any) -> int:
    async with uow_factory() as uow:
        kept, counted, most_rows = await kept_and_counted(uow.session)
    assert kept == counted
    return most_rows


async def kept_and_counted(session) -> tuple[dict[str, int], dict[str, int], int]:
    """The kept size of every list, the sizes counted from the rows themselves, and the
    most rows any one list has in `catalogue_counts`."""
    kept: Counter[str] = Counter()
    rows: Counter[str] = Counter()
    for name, delta in (
        await session.execute(select(catalogue_counts.c.name, catalogue_counts.c.delta))
    ).all():
        kept[name] += delta
        rows[name] += 1
    counted: Counter[str] = Counter()
    for owner, language in (
        await session.execute(select(books.c.owner_uid, books.c.language))
    ).all():
        counted.update(["books", f"books:owner:{owner.hex}", f"books:language:{language}"])
    for (tag,) in (await session.execute(text("SELECT tag_uid FROM book_tags"))).all():
        counted[f"books:tag:{uuid.UUID(str(tag)).hex}"] += 1
    for (user,) in (await session.execute(select(reviews.c.user_uid))).all():
        counted.update(["reviews", f"reviews:user:{user.hex}"])
    for table in (users, tags):
        counted[table.name] += len((await session.execute(select(table.c.uid))).all())
    return (
        {n: v for n, v in kept.items() if v},
        {n: v for n, v in counted.items() if v},
        max(rows.values(), default=0),
    )
