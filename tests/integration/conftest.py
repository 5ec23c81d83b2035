from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from adapters.redis.client import create_redis
from adapters.sqlalchemy.mapping import start_mappers
from tests.integration.sql_fixtures import (  # noqa: F401 - fixtures, registered by import
    database_url,
    postgres_database_url,
    sql_book_reads,
    sql_engine,
    sql_sessions,
    sqlite_database_url,
    uow_factory,
)


@pytest.fixture(scope="session", autouse=True)
def mapped_entities() -> None:
    """The domain classes mapped, as the composition root does once at start-up."""
    start_mappers()


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    """A client of the test Redis, for the Redis adapters' tests."""
    client = create_redis(redis_url)
    yield client
    await client.aclose()
