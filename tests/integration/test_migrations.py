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
async def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
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


async def test_0008_cleans_tag_names_and_merges_look_alikes_into_the_oldest(
    empty_database_url: str,
) -> None:
    from datetime import UTC, date, datetime, timedelta
    from uuid import UUID, uuid4

    from sqlalchemy import insert, select, text

    from adapters.sqlalchemy.engine import session_factory
    from adapters.sqlalchemy.tables import book_tags, tags
    from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
    from domain.books import Book
    from tests.integration.sql_fixtures import make_user

    url, now = empty_database_url, datetime(2026, 1, 1, tzinfo=UTC)
    await asyncio.to_thread(upgrade_to, url, "0007")
    engine = create_engine(url)
    sessions = session_factory(engine)
    owner = make_user()
    b1, b2, b3 = [
        Book(uuid4(), owner.uid, f"T{n}", "A", "P", date(2000, 1, 1), 1, "en", now, now)
        for n in range(3)
    ]
    # (uid, name as stored before 0008, its key then, created_at, linked books)
    scifi = (UUID(int=2), "scifi", "scifi", now, [b1])
    tied = (
        UUID(int=3),
        "\uff33\uff43\uff49\uff26\uff49",
        "\uff53\uff43\uff49\uff46\uff49",
        now,
        [b1, b2],
    )  # fullwidth "SciFi", as old as scifi: the uid decides
    hidden = (UUID(int=1), "sci\u200bfi", "sci\u200bfi", now + timedelta(1), [b3])
    wide = (UUID(int=4), "\uff30oetry", "\uff50oetry", now - timedelta(1), [b3])
    blank = (UUID(int=5), "\u200b", "\u200b", now, [])  # nothing left once cleaned
    try:
        async with SqlUnitOfWork(sessions) as uow:
            await uow.users.add(owner)
            await uow.books.add_many([b1, b2, b3])
            await uow.commit()
        async with engine.begin() as connection:
            made = [scifi, tied, hidden, wide, blank]
            await connection.execute(
                insert(tags),
                [
                    {"uid": uid, "name": name, "name_key": key, "created_at": at}
                    for uid, name, key, at, _ in made
                ],
            )
            await connection.execute(
                insert(book_tags),
                [
                    {"book_uid": book.uid, "tag_uid": uid}
                    for uid, *_, linked in made
                    for book in linked
                ],
            )
        await asyncio.to_thread(upgrade_to, url, "0008")
        async with engine.connect() as connection:
            names = {
                uid: (name, key)
                for uid, name, key in await connection.execute(
                    select(tags.c.uid, tags.c.name, tags.c.name_key)
                )
            }
            links = {
                (tag, book)
                for book, tag in await connection.execute(
                    select(book_tags.c.book_uid, book_tags.c.tag_uid)
                )
            }
            postgresql = connection.dialect.name == "postgresql"
            counts = dict(
                (
                    await connection.execute(
                        text(
                            "SELECT tag_uid, sum(links) FROM tag_link_counts GROUP BY tag_uid "
                            "HAVING sum(links) <> 0"
                        )
                    )
                ).all()
            )
    finally:
        await engine.dispose()
    assert names == {
        scifi[0]: ("scifi", "scifi"),
        wide[0]: ("Poetry", "poetry"),
        blank[0]: ("\u200b", "\u200b"),
    }
    assert links == {(scifi[0], b1.uid), (scifi[0], b2.uid), (scifi[0], b3.uid), (wide[0], b3.uid)}
    assert {uid: int(n) for uid, n in counts.items()} == (  # kept by PostgreSQL's triggers
        {scifi[0]: 3, wide[0]: 1} if postgresql else {}
    )


async def test_0010_moves_the_links_ratings_to_a_table_of_their_own_and_back(
    empty_database_url: str,
) -> None:
    from datetime import UTC, date, datetime
    from uuid import uuid4

    from sqlalchemy import text

    from adapters.sqlalchemy.engine import session_factory
    from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
    from domain.books import Book
    from tests.integration.sql_fixtures import make_user

    url, now = empty_database_url, datetime(2026, 1, 1, tzinfo=UTC)
    await asyncio.to_thread(upgrade_to, url, "0009")
    engine = create_engine(url)
    owner = make_user()
    rated, unrated = [
        Book(uuid4(), owner.uid, f"T{n}", "A", "P", date(2000, 1, 1), 1, lang, now, now)
        for n, lang in ((1, "fr"), (2, "en"))
    ]
    tag = uuid4()
    hexes = {
        uid: uid.hex if engine.dialect.name == "sqlite" else str(uid)
        for uid in (rated.uid, unrated.uid, tag)
    }

    async def ratings(statement: str) -> set[tuple]:
        async with engine.connect() as connection:
            rows = (await connection.execute(text(statement))).all()
        return {(str(book).replace("-", ""), average, language) for book, average, language in rows}

    try:
        async with SqlUnitOfWork(session_factory(engine)) as uow:
            await uow.users.add(owner)
            await uow.books.add_many([rated, unrated])
            await uow.commit()
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO tags (uid, name, name_key, created_at) VALUES (:t, 'x', 'x', :at)"
                ),
                {"t": hexes[tag], "at": now},
            )
            for book, average in ((rated, 4.5), (unrated, None)):
                await connection.execute(
                    text(
                        "INSERT INTO book_tags (book_uid, tag_uid, created_at, title_key, "
                        "average_rating, language) VALUES (:b, :t, :at, 't', :avg, :lang)"
                    ),
                    {
                        "b": hexes[book.uid],
                        "t": hexes[tag],
                        "at": now,
                        "avg": average,
                        "lang": book.language,
                    },
                )
        expected = {(rated.uid.hex, 4.5, "fr"), (unrated.uid.hex, None, "en")}
        await asyncio.to_thread(upgrade_to, url, "0010")
        assert (
            await ratings("SELECT book_uid, average_rating, language FROM book_tag_ratings")
            == expected
        )
        await asyncio.to_thread(downgrade_to, url, "0009")
        assert await ratings("SELECT book_uid, average_rating, language FROM book_tags") == expected
    finally:
        await engine.dispose()
