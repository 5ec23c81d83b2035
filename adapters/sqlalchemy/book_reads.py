"""`BookReads` on an engine of its own: each read one statement, outside any transaction.

A read borrows a pooled connection in autocommit mode (no BEGIN and no ROLLBACK around
its one statement; `create_engine(reads_only=True)`) and gives it back. On PostgreSQL the
statement, built with SQLAlchemy Core once per shape, is compiled once per shape to its
SQL and run on the connection's asyncpg driver, which decodes rows (and the arrays of
records in them) natively: SQLAlchemy's execution and result layers cost more than the
read itself. SQLite reads through SQLAlchemy. A connection that the server closed while
it sat in the pool fails its read; the read is tried once more, on a fresh connection,
since reading twice changes nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import Select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.sqlalchemy.catalogue import (
    PageShape,
    detail_statement,
    page_parameters,
    page_statement,
    to_detail,
    to_page,
)
from application.ports.books import BookDetail, BookQuery, BookView
from application.ports.pages import Page

Row = Mapping[str, Any]
# Failures that mean the connection, not the statement, is broken: closed, in a state
# it cannot leave, or ended by the server (class 08, and 57P01-57P03).
DEAD_CONNECTION = (asyncpg.ConnectionDoesNotExistError, asyncpg.InterfaceError,
                   asyncpg.InternalClientError, asyncpg.PostgresConnectionError,
                   asyncpg.AdminShutdownError, asyncpg.CrashShutdownError,
                   asyncpg.CannotConnectNowError)


@functools.lru_cache(maxsize=2048)
def driver_sql(statement: Select, dialect: Any, literals: tuple[tuple[str, int], ...]
               ) -> tuple[str, tuple[tuple[str, Any], ...]]:
    """`statement`'s SQL for the driver, LIMITs (`literals`) written in, and its
    parameters in the order the driver takes them, each with the value the statement
    itself gives it (None for those the caller gives)."""
    own = statement.compile(dialect=dialect).params
    compiled = statement.params(own | dict(literals)).compile(
        dialect=dialect, compile_kwargs={"render_postcompile": True})
    return compiled.string, tuple((name, own.get(name)) for name in compiled.positiontup or ())


class SqlBookReads:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._dialect = engine.dialect
        self._native = engine.dialect.name == "postgresql"

    async def _rows(self, statement: Select, values: dict[str, Any]) -> Sequence[Row]:
        for attempt in (1, 2):
            async with self._engine.connect() as connection:
                try:
                    if self._native:
                        return await self._driver_rows(connection, statement, values)
                    return (await connection.execute(statement, values)).mappings().all()
                except DEAD_CONNECTION:
                    await connection.invalidate()
                    if attempt == 2:
                        raise
                except DBAPIError as error:
                    if attempt == 2 or not error.connection_invalidated:
                        raise
        raise AssertionError("unreachable")

    async def _driver_rows(self, connection: AsyncConnection, statement: Select,
                           values: dict[str, Any]) -> Sequence[Row]:
        literals = tuple(sorted((name, values[name]) for name in ("rows", "run_rows")
                                if name in values))
        sql, parameters = driver_sql(statement, self._dialect, literals)
        driver = (await connection.get_raw_connection()).driver_connection
        return await driver.fetch(sql, *(values.get(name, own) for name, own in parameters))

    async def detail(self, uid: UUID) -> BookDetail | None:
        rows = await self._rows(detail_statement(self._dialect.name), {"uid": uid})
        return to_detail(rows[0]) if rows else None

    async def search(self, query: BookQuery) -> Page[BookView]:
        statement = page_statement(self._dialect.name, PageShape.of(query))
        return to_page(query, await self._rows(statement, page_parameters(query)))
