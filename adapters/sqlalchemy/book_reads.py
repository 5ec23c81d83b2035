"""`BookReads`: each read one statement, outside any transaction, on a pool of its own.

The statements are written once, with SQLAlchemy Core (`catalogue.py`), and built once per
shape; what runs them depends on the database:

- PostgreSQL (`PoolRows`): asyncpg's own pool. Each statement is compiled once per shape
  to its SQL for asyncpg, and the driver decodes the rows (and the arrays of records in
  them) natively. A read borrows a connection, runs its one statement in autocommit (no
  BEGIN, no ROLLBACK) and gives it back without the pool's reset query: a read leaves
  nothing behind in the session to reset, and the reset would cost a round trip per read.
  SQLAlchemy's engine would lend the same connection for more than the read costs.
- SQLite (`EngineRows`): the service's SQLAlchemy engine (a file has no server to lose).

A pooled PostgreSQL connection is not pinged before it is lent. One that the server closed
while it sat in the pool fails its read, and the read is tried once more on a fresh
connection, since reading twice changes nothing.

The catalogue's hot writes (`book_writes.py`) run on the same pool, one statement each
(`PoolRows.write`), never tried twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable, Sequence
from typing import Any, Protocol
from uuid import UUID

import asyncpg
from sqlalchemy import Select, UpdateBase
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.catalogue import (
    AnySelect,
    NamedRow,
    PageShape,
    detail_statement,
    page_parameters,
    page_statement,
    to_detail,
    to_page,
)
from adapters.sqlalchemy.engine import DATABASE_ERRORS
from application.ports.books import BookDetail, BookQuery, BookView
from application.ports.pages import Page

# Failures that mean the connection, not the statement, is broken: closed, in a state
# it cannot leave, or ended by the server (class 08, and 57P01-57P03).
DEAD_CONNECTION = (
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.CannotConnectNowError,
)
# Compiles statements for asyncpg; no connection of its own.
POSTGRESQL = asyncpg_dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy's __init__ is untyped


class Rows(Protocol):
    """Runs one read statement and returns its rows, readable by column name."""

    dialect: str

    async def __call__(
        self, statement: AnySelect, values: dict[str, Any]
    ) -> Sequence[NamedRow]: ...

    async def aclose(self) -> None: ...


@functools.lru_cache(maxsize=2048)
def driver_sql(
    statement: AnySelect | UpdateBase, literals: tuple[tuple[str, int], ...]
) -> tuple[str, tuple[tuple[str, Any], ...]]:
    """`statement`'s SQL for asyncpg, LIMITs (`literals`) written in, and its parameters
    in the order asyncpg takes them, each with the value the statement itself gives it
    (None for those the caller gives)."""
    own = statement.compile(dialect=POSTGRESQL).params
    # (INSERT, UPDATE and DELETE take no params(): the writes carry no LIMIT to write in.)
    bound = statement.params(own | dict(literals)) if isinstance(statement, Select) else statement
    compiled = bound.compile(dialect=POSTGRESQL, compile_kwargs={"render_postcompile": True})
    return compiled.string, tuple((name, own.get(name)) for name in compiled.positiontup or ())


def _bound(
    statement: AnySelect | UpdateBase, literals: tuple[tuple[str, int], ...], values: dict[str, Any]
) -> tuple[str, list[Any]]:
    """`statement`'s SQL for asyncpg and its arguments, from `values` or its own."""
    sql, parameters = driver_sql(statement, literals)
    return sql, [values.get(name, own) for name, own in parameters]


async def _keep_session(_connection: asyncpg.Connection) -> None:
    """asyncpg's pool `reset`: nothing beyond what the pool always does (it rolls back a
    transaction left open); a read sets, locks and listens to nothing."""


class PoolRows:
    """PostgreSQL's catalogue statements on asyncpg's pool, opened at the first one (no
    connection is made before one is needed, so the service starts while the database is
    down)."""

    dialect = "postgresql"

    def __init__(
        self,
        url: str,
        *,
        size: int,
        connect_timeout: float = 2.0,
        statement_timeout: float = 5.0,
        acquire_timeout: float = 3.0,
    ) -> None:
        self._dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._size = size
        self._connect_timeout = connect_timeout
        self._statement_timeout = statement_timeout
        self._acquire_timeout = acquire_timeout
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()
        self._turns = asyncio.Semaphore(size)
        self.query_loggers: list[Callable[[asyncpg.connection.LoggedQuery], None]] = []

    async def _opened(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._opening:
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(
                        self._dsn,
                        min_size=0,
                        max_size=self._size,
                        timeout=self._connect_timeout,
                        command_timeout=self._statement_timeout,
                        reset=_keep_session,
                        # No JIT: a page reads a few rows, and compiling a plan costed
                        # for many would take longer than running it.
                        server_settings={"jit": "off"},
                    )
        return self._pool

    async def __call__(self, statement: AnySelect, values: dict[str, Any]) -> Sequence[NamedRow]:
        literals = tuple(
            sorted((name, values[name]) for name in ("rows", "run_rows") if name in values)
        )
        sql, arguments = _bound(statement, literals, values)
        with DATABASE_ERRORS:
            pool = await self._opened()
            for attempt in (1, 2):
                try:
                    return await self._run(pool, sql, arguments)
                except DEAD_CONNECTION:
                    if attempt == 2:
                        raise
                    await pool.expire_connections()  # those opened before are likely dead too
        raise AssertionError("unreachable")

    async def write(
        self, statement: AnySelect | UpdateBase, values: dict[str, Any]
    ) -> Sequence[NamedRow]:
        """Runs one writing statement in a transaction of its own (autocommit) and
        returns its rows. Never tried twice: a write that failed with its connection may
        have committed."""
        sql, arguments = _bound(statement, (), values)
        with DATABASE_ERRORS:
            return await self._run(await self._opened(), sql, arguments)

    async def _run(self, pool: asyncpg.Pool, sql: str, arguments: list[Any]) -> Sequence[NamedRow]:
        # Callers take turns (a FIFO semaphore of the pool's size) before asyncpg's pool:
        # its queue gives a connection coming back to whoever asks first, so a caller that
        # just arrived can take it from one that was woken for it, and under load some
        # requests wait many times their share (MagicStack/asyncpg#1247). Let through at
        # most `size` at a time, the pool always has a connection for them (a turn is
        # given back only once its connection is), so only the turn is waited for, and
        # only that wait needs a timer; opening a connection has its own timeout.
        if self._turns.locked():
            async with asyncio.timeout(self._acquire_timeout):
                await self._turns.acquire()
        else:
            await self._turns.acquire()  # free: returns at once
        try:
            connection = await pool.acquire()
        except BaseException:
            self._turns.release()
            raise
        try:
            if self.query_loggers:
                return await self._logged(connection, sql, arguments)
            return await connection.fetch(sql, *arguments)
        finally:
            try:
                await pool.release(connection)
            finally:
                self._turns.release()

    async def _logged(
        self,
        connection: asyncpg.pool.PoolConnectionProxy[asyncpg.Record],
        sql: str,
        arguments: list[Any],
    ) -> Sequence[NamedRow]:
        """With asyncpg's query loggers (`query_loggers`: tracing, or a test counting
        statements) on the connection for this one statement."""
        with contextlib.ExitStack() as stack:
            for logger in self.query_loggers:
                connection.add_query_logger(logger)
                stack.callback(connection.remove_query_logger, logger)
            return await connection.fetch(sql, *arguments)

    def size(self) -> int:
        """Connections open (0 before the first read)."""
        return self._pool.get_size() if self._pool else 0

    def in_use(self) -> int:
        return self._pool.get_size() - self._pool.get_idle_size() if self._pool else 0

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.close()


class EngineRows:
    """Reads through a SQLAlchemy engine (SQLite's: the service's one engine)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self.dialect = engine.dialect.name

    async def __call__(self, statement: AnySelect, values: dict[str, Any]) -> Sequence[NamedRow]:
        with DATABASE_ERRORS:
            async with self._engine.connect() as connection:
                return (await connection.execute(statement, values)).mappings().all()

    async def aclose(self) -> None:
        """Nothing of its own to close: the engine is the units of work's."""


class SqlBookReads:
    def __init__(self, rows: Rows) -> None:
        self._rows = rows

    async def detail(self, uid: UUID) -> BookDetail | None:
        rows = await self._rows(detail_statement(self._rows.dialect), {"uid": uid})
        return to_detail(rows[0]) if rows else None

    async def search(self, query: BookQuery) -> Page[BookView]:
        statement = page_statement(self._rows.dialect, PageShape.of(query))
        return to_page(query, await self._rows(statement, page_parameters(query)))


def rows_for(url: str, engine: AsyncEngine, *, size: int, timeout: float) -> Rows:
    """PostgreSQL's reads on a pool of their own; any other database's on `engine`."""
    if make_url(url).get_backend_name() == "postgresql":
        return PoolRows(url, size=size, connect_timeout=timeout, acquire_timeout=timeout)
    return EngineRows(engine)
