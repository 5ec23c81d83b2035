"""Where each user's last write is (read-your-writes with replicas), on a real Redis."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from adapters.redis.write_positions import RedisWritePositions

pytestmark = pytest.mark.redis


@pytest.fixture
def positions(client: aioredis.Redis, redis_prefix: str) -> RedisWritePositions:
    return RedisWritePositions(client, redis_prefix, ttl_seconds=0.3)


async def test_a_users_position_only_moves_forward_and_is_forgotten_after_its_time(
    positions: RedisWritePositions,
) -> None:
    assert await positions.floor("ada") == 0
    await positions.remember("ada", 0x1_0000_0010)
    await positions.remember("ada", 0x0_FFFF_FFFF)  # a slower request's earlier write
    assert await positions.floor("ada") == 0x1_0000_0010
    assert await positions.floor("bob") == 0
    big = (1 << 63) + 1  # past 2**53, where a Lua number would round
    await positions.remember("bob", big)
    await positions.remember("bob", big - 1)
    assert await positions.floor("bob") == big
    await asyncio.sleep(0.4)
    assert await positions.floor("ada") == 0


async def test_racing_writes_keep_the_furthest(positions: RedisWritePositions) -> None:
    await asyncio.gather(*(positions.remember("ada", n) for n in range(40)))
    assert await positions.floor("ada") == 39
