"""A connection pool of asyncpg connections, for the query adapters.

Beside SQLAlchemy's pool (which serves the units of work), this one does only what a plain
read needs: lend a connection to one statement and take it back. No session object, no
pre-ping round trip at checkout, no reset query at release (the read adapters leave no
session state behind: no SET, LISTEN, advisory lock or open transaction), and each
statement is prepared once per connection. A connection the server dropped (a restart, a
failover) costs a second try on a fresh one instead of an error, which a pre-ping would
otherwise have caught.

Why not asyncpg's own `Pool`: measured here, its checkout and release cost 35-55 µs per
statement (a task per release, a timer re-armed per checkout, a proxy object), more than
the round trip of a one-row statement itself; the read side uses none of what that buys
(setup and reset hooks, connection expiry). Lending is first in, first out; connections
stay open once made, up to `max_size`."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
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


class PostgresPool:
    """Opened at first use, so a process starts while the database is still down.

    `_open` counts the connections open or being opened. A freed place (a connection
    closed, or one that failed to open) goes to the oldest waiter, which opens a connection
    in it, so the pool never holds more than `max_size`."""

    def __init__(self, url: str, max_size: int, timeout: float,
                 statement_timeout: float = 5.0) -> None:
        self._dsn = asyncpg_dsn(url)
        self._max_size = max_size
        self._timeout = timeout
        self._statement_timeout = statement_timeout
        self._idle: deque[asyncpg.Connection] = deque()
        self._waiters: deque[asyncio.Future[asyncpg.Connection | None]] = deque()
        self._open = 0
        self._closed = False
        self.statements_sent = 0  # for tests that count round trips

    def size(self) -> int:
        """Connections open now (none before first use)."""
        return self._open

    def in_use(self) -> int:
        """Connections lent out to statements now (or being opened for one)."""
        return self._open - len(self._idle)

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        return await self._run("fetchrow", sql, args)

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        return await self._run("fetch", sql, args)

    async def _run(self, method: str, sql: str, args: tuple[Any, ...]) -> Any:
        for attempt in (1, 2):
            self.statements_sent += 1
            try:
                connection = await self._acquire()
                try:
                    return await getattr(connection, method)(sql, *args)
                except BaseException as error:
                    if not isinstance(error, asyncpg.PostgresError) \
                            or is_unavailable_error(error):
                        # In doubt: never lend it out again.
                        with contextlib.suppress(asyncpg.InterfaceError):
                            connection.terminate()
                    raise
                finally:
                    self._release(connection)
            except Exception as error:
                if attempt == 2 or not _stale(error):
                    raise
        raise AssertionError("unreachable")

    async def _acquire(self) -> asyncpg.Connection:
        if self._closed:
            raise asyncpg.InterfaceError("the read pool is closed")
        while self._idle:
            connection = self._idle.popleft()
            if not connection.is_closed():
                return connection
            self._open -= 1  # ended while idle (the server went away)
        if self._open < self._max_size:
            self._open += 1
            return await self._connect()
        waiter: asyncio.Future[asyncpg.Connection | None] = \
            asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(self._timeout):  # all busy: wait, but not forever
                connection = await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                # handed over just as we gave up: pass it on
                given = waiter.result()
                if given is None:
                    self._free_place()
                else:
                    self._release(given)
            else:
                waiter.cancel()
            raise
        return connection if connection is not None else await self._connect()

    async def _connect(self) -> asyncpg.Connection:
        """Opens a connection in a place already counted in `_open`."""
        try:
            return await asyncpg.connect(
                self._dsn, timeout=self._timeout, command_timeout=self._statement_timeout,
                statement_cache_size=STATEMENT_CACHE_SIZE)
        except BaseException:
            self._free_place()
            raise

    def _next_waiter(self) -> asyncio.Future[asyncpg.Connection | None] | None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                return waiter
        return None

    def _release(self, connection: asyncpg.Connection) -> None:
        if self._closed or connection.is_closed():
            if not connection.is_closed():
                connection.terminate()
            self._free_place()
            return
        waiter = self._next_waiter()
        if waiter is not None:
            waiter.set_result(connection)
        else:
            self._idle.append(connection)

    def _free_place(self) -> None:
        """A connection's place came free: the oldest waiter opens one in it."""
        waiter = None if self._closed else self._next_waiter()
        if waiter is not None:
            waiter.set_result(None)
        else:
            self._open -= 1

    async def close(self) -> None:
        """Closes the idle connections; those lent out close when they come back."""
        self._closed = True
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(asyncpg.InterfaceError("the read pool is closed"))
        idle, self._idle = list(self._idle), deque()
        self._open -= len(idle)
        for connection in idle:
            try:
                await asyncio.wait_for(connection.close(), self._timeout)
            except (TimeoutError, OSError, asyncpg.InterfaceError):
                connection.terminate()
