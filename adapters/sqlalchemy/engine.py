"""Engines and session factories for PostgreSQL (asyncpg) and SQLite (aiosqlite)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import event, exc, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from adapters.unavailable import Unavailable

# SQLSTATE classes/codes that mean "the server cannot serve us right now".
_UNAVAILABLE_SQLSTATES = ("08", "53", "57P01", "57P02", "57P03", "57014")
_UNAVAILABLE_SQLITE_ERRORS = ("SQLITE_CANTOPEN", "SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_IOERR")


def create_engine(
    url: str,
    *,
    pool_size: int = 10,
    connect_timeout: float = 2.0,
    statement_timeout: float = 5.0,
    pool_timeout: float = 3.0,
    pre_ping: bool = False,
) -> AsyncEngine:
    """An engine whose connections serve units of work.

    It does not ping a pooled connection before lending it (asyncpg's ping is a
    transaction of its own, three round trips). A connection the server ended while it
    sat in the pool fails the statement that uses it, and SQLAlchemy then drops every
    connection the pool held from before: the unit of work ends with 503
    `service_unavailable`, which clients may retry, before it changed anything. A
    replica's engine pings (`pre_ping`): a replica that went away is then skipped."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, statement_timeout, pool_size, pool_timeout)
    return create_async_engine(
        parsed,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=pool_timeout,
        pool_pre_ping=pre_ping,
        pool_recycle=1800,
        json_deserializer=orjson.loads,
        # No JIT: a page reads a few rows, and a plan costed for many (a generic plan,
        # say) would spend more compiling itself than running.
        connect_args={
            "timeout": connect_timeout,
            "command_timeout": statement_timeout,
            "server_settings": {"jit": "off"},
        },
    )


def ensure_database_file(url: str | URL) -> None:
    """Create a SQLite database's folder and, if it does not exist yet, the file itself:
    empty (which SQLite takes for a new database) and readable by its owner only. SQLite
    gives the `-wal` and `-shm` files it makes beside it the file's permissions; left to
    SQLite, all three would follow the umask (usually readable by everyone). An existing
    file keeps its mode: a deployment may have chosen it. Nothing for other databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or _in_memory(parsed):
        return
    database = parsed.database or ""
    if database.startswith("file:"):
        return
    path = Path(database).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):  # it exists: leave it as it is
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _in_memory(url: URL) -> bool:
    database = url.database or ""
    return (
        database in ("", ":memory:")
        or database.startswith("file::memory:")
        or "mode=memory" in database
    )


def _sqlite_engine(
    url: URL, busy_timeout: float, pool_size: int, pool_timeout: float
) -> AsyncEngine:
    in_memory = _in_memory(url)
    ensure_database_file(url)
    # A memory database lives in one shared connection (SQLAlchemy's StaticPool).
    pooling = (
        {}
        if in_memory
        else {"pool_size": pool_size, "max_overflow": pool_size, "pool_timeout": pool_timeout}
    )
    engine = create_async_engine(url, connect_args={"timeout": busy_timeout}, **pooling)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    return engine


class Session(AsyncSession):
    """A session that, used as `async with`, turns a database that cannot serve now into
    `ServiceUnavailable` on the way out: every adapter's statements go through one."""

    async def __aexit__(self, kind: Any, error: Any, tb: Any) -> None:
        try:
            await super().__aexit__(kind, error, tb)
        except Exception as closing:
            DATABASE_ERRORS.raise_for(closing)
            raise
        DATABASE_ERRORS.raise_for(error)


async def ping(engine: AsyncEngine) -> None:
    """Raises unless the database answers a statement."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


def session_factory(engine: AsyncEngine) -> async_sessionmaker[Session]:
    """Sessions of the adapters; they need the domain classes mapped
    (`mapping.start_mappers`, which the composition root calls once at start-up)."""
    return async_sessionmaker(engine, class_=Session, expire_on_commit=False)


def is_unavailable_error(exc_value: BaseException) -> bool:
    """True when the failure means the database cannot be reached or cannot serve now."""
    seen: set[int] = set()
    current: BaseException | None = exc_value
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _is_unavailable_link(current):
            return True
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__
    return False


def _is_unavailable_link(error: BaseException) -> bool:
    """Judges one link of the cause chain; False lets the caller look further down."""
    if isinstance(error, OSError | TimeoutError | exc.TimeoutError):
        return True
    if isinstance(error, exc.DBAPIError):
        if error.connection_invalidated:
            return True
        if isinstance(error.orig, sqlite3.Error):
            return False  # the sqlite3 error itself decides
        return isinstance(error, exc.OperationalError | exc.InterfaceError)
    if isinstance(error, sqlite3.Error):
        name = getattr(error, "sqlite_errorname", "") or ""
        return name.startswith(_UNAVAILABLE_SQLITE_ERRORS) or "unable to open" in str(error)
    sqlstate = getattr(error, "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATES)


DATABASE_ERRORS = Unavailable(
    "database", "The database is unavailable; try again shortly.", is_unavailable_error
)
