"""The Redis token store's account snapshots against a real server."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import orjson
import pytest
import redis.asyncio as aioredis

from adapters.inprocess.clock import SystemClock
from adapters.redis.auth_cache import VERSION_TTL_SECONDS
from adapters.redis.token_store import RedisTokenStore
from tests.account_cache_contract import (
    ACCOUNT_CACHE_CHECKS,
    CACHED_FIELDS,
    PASSWORD_HASH,
    cached,
    make_user,
)
from tests.token_store_contract import StoreHarness

pytestmark = pytest.mark.redis

ACCOUNT_TTL = 300


async def _sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


@pytest.fixture
def store(client: aioredis.Redis, redis_prefix: str) -> RedisTokenStore:
    return RedisTokenStore(
        client, SystemClock(), key_prefix=redis_prefix, account_ttl_seconds=ACCOUNT_TTL
    )


@pytest.fixture
def harness(store: RedisTokenStore) -> StoreHarness:
    return StoreHarness(store=store, clock=SystemClock(), pass_time=_sleep)


@pytest.mark.parametrize("check", ACCOUNT_CACHE_CHECKS, ids=lambda check: check.__name__)
async def test_account_cache_contract(check, harness: StoreHarness) -> None:
    await check(harness)


async def test_the_snapshot_is_json_without_the_password_hash(
    harness: StoreHarness, store: RedisTokenStore, client: aioredis.Redis
) -> None:
    user = make_user()
    await cached(harness, user)
    raw = await client.get(store.accounts.account_key(user.uid))
    assert PASSWORD_HASH.encode() not in raw and b"password" not in raw
    assert sorted(orjson.loads(raw)) == sorted(CACHED_FIELDS)
    assert (
        ACCOUNT_TTL * 1000 - 2000
        < await client.pttl(store.accounts.account_key(user.uid))
        <= ACCOUNT_TTL * 1000
    )


async def test_forget_outlives_every_snapshot(
    harness: StoreHarness, store: RedisTokenStore, client: aioredis.Redis
) -> None:
    user = make_user()
    session = await cached(harness, user)
    assert (await store.check(session, user.uid)).version == "0"
    await store.forget([user.uid])
    assert await client.get(store.accounts.account_key(user.uid)) is None
    first = await client.get(store.accounts.account_version_key(user.uid))
    await store.forget([user.uid])
    assert first not in (None, b"0") and await client.get(
        store.accounts.account_version_key(user.uid)
    ) not in (None, b"0", first)  # a new stamp each
    ttl = await client.ttl(store.accounts.account_version_key(user.uid))
    assert ACCOUNT_TTL < VERSION_TTL_SECONDS - 2 < ttl <= VERSION_TTL_SECONDS


async def test_a_ttl_of_zero_disables_the_cache(
    client: aioredis.Redis, redis_prefix: str, store: RedisTokenStore, harness: StoreHarness
) -> None:
    uncached = RedisTokenStore(
        client, SystemClock(), key_prefix=redis_prefix, account_ttl_seconds=0
    )
    user = make_user()
    session = await harness.open(user.uid)
    check = await uncached.check(session, user.uid)
    assert (check.live, check.user, check.version) == (True, None, None)
    assert not (await uncached.check(uuid4(), user.uid)).live
    await uncached.remember(user, "0")
    assert await client.get(store.accounts.account_key(user.uid)) is None
    await cached(harness, user)  # written by a process that caches...
    await uncached.forget([user.uid])  # ...and still forgotten by one that does not
    assert (await store.check(session, user.uid)).user is None


async def test_a_snapshot_this_release_cannot_read_is_a_miss(
    harness: StoreHarness, store: RedisTokenStore, client: aioredis.Redis
) -> None:
    user = make_user()
    session = await cached(harness, user)
    await client.set(store.accounts.account_key(user.uid), b'{"uid": "not what it was"}')
    check = await store.check(session, user.uid)
    assert check.live and check.user is None
    await store.remember(user, check.version)
    assert (await store.check(session, user.uid)).user is not None
