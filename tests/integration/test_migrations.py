"""Migrations: each revision goes up, down and up again; head matches `tables.metadata`."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect

from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.tables import USERS_USERNAME_INDEX, metadata
from migrations import alembic_config, downgrade_to, upgrade_to_head
from tests.integration.sql_fixtures import SQL_BACKENDS
from tests.services import POSTGRES_ADMIN_DSN, asyncpg_url, unavailable, unique_name


@pytest.fixture(params=SQL_BACKENDS)
async def empty_database_url(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[str]:
    """A database of its own, without any table, dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'fresh' / 'bookly.db'}"
        return
    import asyncpg

    try:
        admin = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        unavailable("PostgreSQL", error)
    name = unique_name("bookly_migrations")
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield asyncpg_url(f"{POSTGRES_ADMIN_DSN.rpartition('/')[0]}/{name}")
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def revisions_oldest_first(url: str) -> list[tuple[str, str]]:
    script = ScriptDirectory.from_config(alembic_config(url))
    revisions = list(script.walk_revisions("base", "heads"))[::-1]
    return [(rev.revision, rev.down_revision or "base") for rev in revisions]  # type: ignore[misc]


async def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda c: inspect(c).get_table_names())
    finally:
        await engine.dispose()
    return set(names) - {"alembic_version"}


async def test_stairway(empty_database_url: str) -> None:
    url = empty_database_url
    revisions = revisions_oldest_first(url)
    assert revisions, "no migrations found"
    for revision, previous in revisions:
        await asyncio.to_thread(upgrade_to, url, revision)
        await asyncio.to_thread(downgrade_to, url, previous)
        await asyncio.to_thread(upgrade_to, url, revision)
    assert await table_names(url) == set(metadata.tables)
    await asyncio.to_thread(downgrade_to, url, "base")
    assert await table_names(url) == set()


def upgrade_to(url: str, revision: str) -> None:
    command.upgrade(alembic_config(url), revision)


def schema_differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    with warnings.catch_warnings():
        # SQLite cannot reflect expression indexes; `sqlite_expression_indexes` checks them.
        warnings.filterwarnings("ignore", ".*expression-based index")
        return list(compare_metadata(context, metadata))


def sqlite_expression_indexes(connection: Connection) -> dict[str, str]:
    rows = connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql LIKE '%(%(%'"
    )
    return {name: sql for name, sql in rows}


async def test_migrated_schema_matches_the_metadata(empty_database_url: str) -> None:
    await asyncio.to_thread(upgrade_to_head, empty_database_url)
    engine = create_engine(empty_database_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(schema_differences)
            if connection.dialect.name == "sqlite":
                indexes = await connection.run_sync(sqlite_expression_indexes)
                assert set(indexes) == {USERS_USERNAME_INDEX}
                assert "UNIQUE" in indexes[USERS_USERNAME_INDEX]
                assert "lower(username)" in indexes[USERS_USERNAME_INDEX]
    finally:
        await engine.dispose()
    assert differences == []
