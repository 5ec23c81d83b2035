"""asyncpg's own connection pool, for the query adapters.

Beside SQLAlchemy's pool (which serves the units of work), this one skips what a plain
read does not need: no session object, no pre-ping round trip at checkout, no reset
query at release (the read adapters leave no session state behind: no SET, LISTEN,
advisory lock or open transaction), and each statement is prepared once per connection.
A connection the server dropped (a restart, a failover) costs a second try on a fresh
one instead of an error, which a pre-ping would otherwise have caught."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

# SQLSTATE classes/codes that mean "the server cannot serve us right now".
_UNAVAILABLE_SQLSTATES = ("08", "53", "57P01", "57P02", "57P03", "57014")
STATEMENT_CACHE_SIZE = 256  # every filter-and-sort combination of a catalogue search


def asyncpg_dsn(url: str) -> str:
    """`postgresql+asyncpg://…` (the setting) → the `postgresql://…` asyncpg takes."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def is_unavailable_error(error: BaseException) -> bool:
    """True for a failure of asyncpg's that means the server cannot be reached or cannot
    serve now (as opposed to a fault in the statement)."""
    if isinstance(error, OSError | TimeoutError | asyncpg.InterfaceError
                  | asyncpg.InternalClientError):
        return True
    sqlstate = getattr(error, "sqlstate", None)
    return isinstance(error, asyncpg.PostgresError) and isinstance(sqlstate, str) \
        and sqlstate.startswith(_UNAVAILABLE_SQLSTATES)


def _stale(error: BaseException) -> bool:
    """A pooled connection that died while idle: worth one more try on a fresh one. (A
    server that ended the connection while it sat idle can also leave asyncpg's protocol
    in a state where the next statement fails with InternalClientError.)"""
    return isinstance(error, asyncpg.ConnectionDoesNotExistError | ConnectionResetError
                      | asyncpg.InternalClientError) or (
        isinstance(error, asyncpg.InterfaceError) and "closed" in str(error))


async def _keep_session(_connection: asyncpg.Connection) -> None:
    """The release-time reset: nothing to undo (see the module's docstring)."""


class PostgresPool:
    """Opened at first use, so a process starts while the database is still down."""

    def __init__(self, url: str, max_size: int, timeout: float,
                 statement_timeout: float = 5.0) -> None:
        self._dsn = asyncpg_dsn(url)
        self._max_size = max_size
        self._timeout = timeout
        self._statement_timeout = statement_timeout
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()
        self.statements_sent = 0  # for tests that count round trips

    async def _opened(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._opening:
                if self._pool is None:
                    self._pool = await asyncpg.create_pool(
                        self._dsn, min_size=0, max_size=self._max_size, timeout=self._timeout,
                        command_timeout=self._statement_timeout, reset=_keep_session,
                        statement_cache_size=STATEMENT_CACHE_SIZE,
                        max_inactive_connection_lifetime=300,
                    )
        return self._pool

    def size(self) -> int:
        """Connections open now (none before first use)."""
        return self._pool.get_size() if self._pool is not None else 0

    def in_use(self) -> int:
        """Connections lent out to statements now."""
        return self._pool.get_size() - self._pool.get_idle_size() if self._pool else 0

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        return await self._run("fetchrow", sql, args)

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        return await self._run("fetch", sql, args)

    async def _run(self, method: str, sql: str, args: tuple[Any, ...]) -> Any:
        pool = await self._opened()
        for attempt in (1, 2):
            self.statements_sent += 1
            try:
                async with pool.acquire(timeout=self._timeout) as connection:
                    try:
                        return await getattr(connection, method)(sql, *args)
                    except BaseException as error:
                        if not isinstance(error, asyncpg.PostgresError) \
                                or is_unavailable_error(error):
                            # In doubt: never lend it out again (a connection
                            # already gone is already detached from the pool).
                            with contextlib.suppress(asyncpg.InterfaceError):
                                connection.terminate()
                        raise
            except Exception as error:
                if attempt == 2 or not _stale(error):
                    raise
        raise AssertionError("unreachable")

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            try:
                await asyncio.wait_for(pool.close(), self._timeout)
            except TimeoutError:
                pool.terminate()
