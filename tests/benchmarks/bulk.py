"""Loads a `catalogue.Catalogue` into a migrated PostgreSQL database with COPY (asyncpg).

The rows go in as the catalogue makes them, chunk by chunk, while the next chunk is made
in a thread (the database works on one, Python on the other). Triggers fire on COPY as on
INSERT, so what the schema derives by itself (the catalogue's size, each tag's count) is
derived as the rows arrive. Review figures are the catalogue's; a check compares them with
the reviews, and repairs them if they disagree (a schema whose triggers keep them too).

With `rebuild_indexes`, the loaded tables' indexes and keys are dropped before the COPY and
made again after it, each from its own definition as the database states it (pg_indexes,
pg_constraint), so whatever the migrations made comes back as it was; the indexes are
built two at a time. Which is faster is measured, not assumed: the load reports the time
of each step."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg

from tests.benchmarks.catalogue import ROWS, Catalogue
from tests.benchmarks.load import FIGURES, INCONSISTENT

CHUNK_BOOKS = 25_000
SESSION = ("SET maintenance_work_mem = '1GB'", "SET synchronous_commit = off")
REQUIRED = """
SELECT table_name::text, array_agg(column_name::text ORDER BY ordinal_position)
FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = ANY($1::text[]) AND is_nullable = 'NO'
  AND column_default IS NULL AND is_identity = 'NO' AND is_generated = 'NEVER'
GROUP BY table_name"""
KNOWN = """
SELECT table_name::text, array_agg(column_name::text)
FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = ANY($1::text[]) GROUP BY table_name"""
CONSTRAINTS = """
SELECT c.conrelid::regclass::text, c.conname::text, pg_get_constraintdef(c.oid), c.contype::text,
       c.conindid::regclass::text
FROM pg_constraint c
WHERE c.contype IN ('p', 'u', 'f')
  AND (c.conrelid = ANY($1::regclass[]) OR c.confrelid = ANY($1::regclass[]))"""
INDEXES = """
SELECT i.indexname::text, i.indexdef, pg_relation_size(i.tablename::regclass)
FROM pg_indexes i
WHERE i.schemaname = current_schema() AND i.tablename = ANY($1::text[])"""


@dataclass
class Keys:
    """The loaded tables' indexes and keys, as the database states them."""

    foreign: list[tuple[str, str, str]] = field(default_factory=list)  # table, name, def
    unique: list[tuple[str, str, str]] = field(default_factory=list)  # primary keys too
    indexes: list[tuple[str, str]] = field(default_factory=list)  # name, CREATE INDEX ...


async def check_columns(connection: asyncpg.Connection) -> None:
    """Every column the schema requires (NOT NULL, no default) is one the catalogue fills,
    and every column it fills exists: a schema change shows here, not as a COPY error."""
    tables = list(ROWS)
    known = dict(await connection.fetch(KNOWN, tables))
    problems = []
    for table, required in await connection.fetch(REQUIRED, tables):
        missing = set(required) - set(ROWS[table])
        if missing:
            problems.append(f"{table}: {', '.join(sorted(missing))} required, not filled")
    for table, columns in ROWS.items():
        if unknown := set(columns) - set(known.get(table, ())):
            problems.append(f"{table}: {', '.join(sorted(unknown))} filled, not in the schema")
    if problems:
        raise SystemExit(
            "benchmarks: the catalogue's rows no longer fit the schema; fix the "
            "row functions in tests/benchmarks/catalogue.py:\n  " + "\n  ".join(problems)
        )


async def drop_keys(connection: asyncpg.Connection) -> Keys:
    tables = list(ROWS)
    keys = Keys()
    backing = set()
    for table, name, definition, kind, index in await connection.fetch(CONSTRAINTS, tables):
        (keys.foreign if kind == "f" else keys.unique).append((table, name, definition))
        backing.add(index)
    for name, definition, _size in sorted(
        await connection.fetch(INDEXES, tables), key=lambda row: -row[2]
    ):
        if name not in backing:
            keys.indexes.append((name, definition))
    for table, name, _ in keys.foreign + keys.unique:
        await connection.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in keys.indexes:
        await connection.execute(f'DROP INDEX "{name}"')
    return keys


async def restore_keys(dsn: str, keys: Keys, workers: int = 2) -> None:
    """Primary and unique keys, then the other indexes (`workers` at a time, largest table
    first), then the foreign keys (each checked by one join)."""
    connections = [await _connect(dsn) for _ in range(workers)]
    try:
        first = connections[0]
        for table, name, definition in keys.unique:
            await first.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        queue = [definition for _, definition in keys.indexes]

        async def build(connection: asyncpg.Connection) -> None:
            while queue:
                await connection.execute(queue.pop(0))

        await asyncio.gather(*(build(connection) for connection in connections))
        for table, name, definition in keys.foreign:
            await first.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    finally:
        for connection in connections:
            await connection.close()


async def _connect(dsn: str) -> asyncpg.Connection:
    connection = await asyncpg.connect(dsn)
    for statement in SESSION:
        await connection.execute(statement)
    return connection


async def load(
    dsn: str, catalogue: Catalogue, rebuild_indexes: bool, say: Callable[[str], None]
) -> dict[str, object]:
    steps: dict[str, float] = {}
    started = time.perf_counter()

    async def step(name: str, work: Awaitable[object]) -> object:
        mark = time.perf_counter()
        done = await work
        steps[name] = round(time.perf_counter() - mark, 1)
        say(f"  {name}: {steps[name]:.1f} s")
        return done

    connection = await _connect(dsn)
    try:
        await check_columns(connection)
        keys = (
            await step("drop indexes and keys", drop_keys(connection)) if rebuild_indexes else None
        )
        rows = await step("COPY", _copy(connection, catalogue, say))
        if keys is not None:
            await step("rebuild indexes and keys", restore_keys(dsn, keys))
        repaired = await step("check review figures", _figures(connection))
        await step("VACUUM ANALYZE", connection.execute("VACUUM ANALYZE"))
    finally:
        await connection.close()
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "steps": steps,
        "rows": rows,
        "rebuild_indexes": rebuild_indexes,
        "figures_repaired": repaired,
    }


async def _copy(
    connection: asyncpg.Connection, catalogue: Catalogue, say: Callable[[str], None]
) -> dict[str, int]:
    counts = dict.fromkeys(ROWS, 0)

    async def copy(table: str, records: list[tuple]) -> None:
        await connection.copy_records_to_table(table, records=records, columns=ROWS[table])
        counts[table] += len(records)

    await copy("users", catalogue.users())
    await copy("tags", catalogue.tags())
    loop = asyncio.get_running_loop()
    chunks = catalogue.chunks(CHUNK_BOOKS)
    upcoming = loop.run_in_executor(None, next, chunks, None)
    reported = time.perf_counter()
    while (chunk := await upcoming) is not None:
        upcoming = loop.run_in_executor(None, next, chunks, None)  # made while this loads
        for table in ("books", "book_tags", "book_tag_ratings", "reviews"):
            await copy(table, getattr(chunk, table))
        if time.perf_counter() - reported > 30:
            reported = time.perf_counter()
            say(f"    {counts['books']:,} of {catalogue.shape.books:,} books")
    return counts


async def _figures(connection: asyncpg.Connection) -> bool:
    """True when the books' review figures disagreed with their reviews and were repaired."""
    if await connection.fetchval(INCONSISTENT) == 0:
        return False
    await connection.execute(FIGURES)
    if (bad := await connection.fetchval(INCONSISTENT)) != 0:
        raise RuntimeError(f"{bad} books' review figures disagree with their reviews")
    return True
