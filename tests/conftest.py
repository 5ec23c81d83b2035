"""Fixtures for real servers: a fresh PostgreSQL database per test run, Redis keys
under a prefix of their own per test."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest

from tests.services import REDIS_URL, new_postgres_database, unavailable, unique_name


@pytest.fixture(scope="session")
async def postgres_url() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database (no tables) for this test run, dropped after it."""
    async with new_postgres_database() as url:
        yield url


@pytest.fixture
async def own_postgres_url() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database for this test alone, dropped after it."""
    async with new_postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
async def redis_url() -> str:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except Exception as error:
        unavailable("Redis", error)
    finally:
        await client.aclose()
    return REDIS_URL


@pytest.fixture
async def redis_prefix(redis_url: str) -> AsyncIterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    import redis.asyncio as aioredis

    prefix = unique_name("bookly-test") + ":"
    yield prefix
    client = aioredis.Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """New files readable by everyone unless their maker says otherwise (umask 022), as on
    many servers: a test of file modes then fails if the code leaves them to the umask."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)
