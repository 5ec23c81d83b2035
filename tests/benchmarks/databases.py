"""Scratch PostgreSQL databases and Redis key prefixes of the benchmark runs, made from the
tests' server settings (BOOKLY_TEST_POSTGRES_DSN, BOOKLY_TEST_REDIS_URL)."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import redis

from tests.services import POSTGRES_ADMIN_DSN, REDIS_URL


def scratch_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def dsn_of(name: str) -> str:
    """The test server's DSN, pointed at database `name`."""
    return f"{POSTGRES_ADMIN_DSN.rpartition('/')[0]}/{name}"


async def admin(statement: str, *arguments: object) -> object:
    """One statement on the server's maintenance database (CREATE/DROP DATABASE cannot run
    inside the database they touch); its first value, if any."""
    connection = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
    try:
        return await connection.fetchval(statement, *arguments)
    finally:
        await connection.close()


def create(name: str, template: str | None = None) -> None:
    """A new database; with `template`, a copy of that one (file by file: no other session
    may be connected to it meanwhile)."""
    copy = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
    asyncio.run(admin(f'CREATE DATABASE "{name}"{copy}'))


def drop(name: str) -> None:
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def rename(old: str, new: str) -> None:
    asyncio.run(admin(f'ALTER DATABASE "{old}" RENAME TO "{new}"'))


def exists(name: str) -> bool:
    return bool(asyncio.run(admin("SELECT count(*) FROM pg_database WHERE datname = $1", name)))


def named_like(prefix: str) -> list[str]:
    found = asyncio.run(
        admin(
            "SELECT array_agg(datname ORDER BY datname) FROM pg_database "
            "WHERE starts_with(datname, $1)",
            prefix,
        )
    )
    return list(found or [])


def redis_prefix(prefix: str) -> str:
    """A key prefix of its own, so that deleting the run's keys touches nobody else's."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}:"


def check_redis() -> None:
    redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()


def delete_keys(prefix: str) -> int:
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=prefix + "*", count=1000))
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start : start + 1000])
    return len(keys)
