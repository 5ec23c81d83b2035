"""The idempotency stores on SQLite, PostgreSQL and Redis keep one contract."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.redis.idempotency import RedisIdempotencyStore
from adapters.sqlalchemy.idempotency import SqlIdempotencyStore
from tests.fakes.clock import FixedClock
from tests.idempotency_contract import IDEMPOTENCY_CHECKS, IdempotencyHarness


@pytest.mark.parametrize("check", IDEMPOTENCY_CHECKS, ids=lambda check: check.__name__)
async def test_sql_idempotency_contract(
    check, sql_sessions: async_sessionmaker[AsyncSession]
) -> None:
    clock = FixedClock()

    async def pass_time(seconds: float) -> None:
        clock.advance(seconds)

    await check(IdempotencyHarness(SqlIdempotencyStore(sql_sessions, clock), pass_time))


@pytest.mark.redis
@pytest.mark.parametrize("check", IDEMPOTENCY_CHECKS, ids=lambda check: check.__name__)
async def test_redis_idempotency_contract(check, client: aioredis.Redis, redis_prefix: str) -> None:
    await check(IdempotencyHarness(RedisIdempotencyStore(client, redis_prefix), asyncio.sleep))
