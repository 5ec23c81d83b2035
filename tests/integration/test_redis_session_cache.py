"""Workers' session caches against a real Redis: two token stores with their own clients,
caches and listeners play two worker processes of one deployment."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import pytest
import redis.asyncio as aioredis

from adapters.inprocess.clock import SystemClock
from adapters.redis.auth_cache import HEARTBEAT_SECONDS, InvalidationListener, SessionCache
from adapters.redis.client import create_redis, is_unavailable_error
from adapters.redis.token_store import RedisTokenStore
from application.ports.sessions import RotationOutcome
from domain.errors import ServiceUnavailable
from tests.account_cache_contract import ACCOUNT_CACHE_CHECKS, cached, make_user
from tests.services import eventually, private_redis
from tests.token_store_contract import TOKEN_STORE_CHECKS, StoreHarness

pytestmark = pytest.mark.redis

HOUR = timedelta(hours=1)


@dataclass
class Worker:
    store: RedisTokenStore
    cache: SessionCache
    listener: InvalidationListener
    client: aioredis.Redis


@asynccontextmanager
async def worker(url: str, prefix: str, ttl: float = 60) -> AsyncIterator[Worker]:
    client = create_redis(url)
    cache = SessionCache(ttl)
    store = RedisTokenStore(client, SystemClock(), key_prefix=prefix, cache=cache)
    listener = InvalidationListener(client, store.invalidation_channel, cache)
    listener.start()
    try:
        await eventually(lambda: cache.trusted, "the listener subscribes")
        yield Worker(store, cache, listener, client)
    finally:
        await listener.stop()
        await client.aclose()


@pytest.fixture
async def workers(redis_url: str, redis_prefix: str) -> AsyncIterator[tuple[Worker, Worker]]:
    async with worker(redis_url, redis_prefix) as a, worker(redis_url, redis_prefix) as b:
        yield a, b


async def _sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


async def cached_in(w: Worker, user_uid: UUID, session: UUID) -> None:
    """`w` answers the session from memory from now on (no round trip)."""
    await w.store.check(session, user_uid)
    hits = w.cache.hits
    assert (await w.store.check(session, user_uid)).live
    assert w.cache.hits == hits + 1, "the second check was not a hit"


def harness_of(w: Worker) -> StoreHarness:
    return StoreHarness(store=w.store, clock=SystemClock(), pass_time=_sleep)


async def session_with_snapshot(w: Worker) -> tuple[UUID, UUID]:
    user = make_user()
    return user.uid, await cached(harness_of(w), user)


@pytest.mark.parametrize(
    "check", TOKEN_STORE_CHECKS + ACCOUNT_CACHE_CHECKS, ids=lambda check: check.__name__
)
async def test_a_listening_store_keeps_the_contracts(check, workers: tuple[Worker, Worker]) -> None:
    await check(harness_of(workers[0]))


async def test_heartbeats_keep_the_cache_trusted(redis_url: str, redis_prefix: str) -> None:
    async with worker(redis_url, redis_prefix) as a:
        first = a.cache.trusted_until
        await eventually(
            lambda: a.cache.trusted_until > first + 0.5,
            "a heartbeat answered",
            within=HEARTBEAT_SECONDS * 2.5,
        )
        assert a.cache.trusted


async def test_a_repeated_check_is_answered_from_memory(
    workers: tuple[Worker, Worker], client: aioredis.Redis, redis_prefix: str
) -> None:
    a, _ = workers
    user, session = await session_with_snapshot(a)
    await cached_in(a, user, session)
    # Redis is not asked: with the session gone behind the cache's back (nothing
    # published), memory still answers, for at most the cache's TTL
    await client.delete(a.store.session_key(session))
    assert (await a.store.check(session, user)).live


async def test_a_revoked_session_is_forgotten_by_every_worker(
    workers: tuple[Worker, Worker],
) -> None:
    a, b = workers
    user, session = await session_with_snapshot(a)
    other_user, other = await session_with_snapshot(a)
    await cached_in(a, user, session)
    await cached_in(b, user, session)
    await cached_in(b, other_user, other)
    await a.store.revoke_session(session)
    assert a.cache.get(session, user) is None  # at once, in the worker that revoked
    took = await eventually(lambda: b.cache.get(session, user) is None, "b forgets")
    assert took < 1.0
    assert not (await b.store.check(session, user)).live
    assert b.cache.get(other, other_user) is not None  # other sessions stay


async def test_revoking_a_user_ends_all_their_cached_sessions(
    workers: tuple[Worker, Worker],
) -> None:
    a, b = workers
    user = make_user()
    first, second = await cached(harness_of(a), user), await cached(harness_of(a), user)
    other_user, other = await session_with_snapshot(a)
    for session in (first, second):
        await cached_in(b, user.uid, session)
    await cached_in(b, other_user, other)
    await a.store.revoke_user(user.uid)
    await eventually(
        lambda: b.cache.get(first, user.uid) is None and b.cache.get(second, user.uid) is None,
        "b forgets the user",
    )
    assert not (await b.store.check(first, user.uid)).live
    assert b.cache.get(other, other_user) is not None


async def test_a_changed_account_is_read_again_by_every_worker(
    workers: tuple[Worker, Worker],
) -> None:
    a, b = workers
    user, session = await session_with_snapshot(a)
    await cached_in(b, user, session)
    await a.store.forget([user])
    await eventually(lambda: b.cache.get(session, user) is None, "b drops the account")
    found = await b.store.check(session, user)
    assert found.live and found.user is None  # the caller loads it from the database


async def test_a_reused_refresh_token_ends_the_session_everywhere(
    workers: tuple[Worker, Worker],
) -> None:
    a, b = workers
    user = make_user()
    session = await cached(harness_of(a), user)
    await cached_in(b, user.uid, session)
    assert await a.store.rotate(session, "t0", "t1") is RotationOutcome.ROTATED
    await asyncio.sleep(0.05)
    assert b.cache.get(session, user.uid) is not None  # a rotation leaves it live
    assert await a.store.rotate(session, "t0", "t2") is RotationOutcome.REUSED
    assert a.cache.get(session, user.uid) is None
    await eventually(lambda: b.cache.get(session, user.uid) is None, "b forgets")


async def test_an_entry_never_outlives_its_session(redis_url: str, redis_prefix: str) -> None:
    async with worker(redis_url, redis_prefix) as a:
        user = make_user()
        session = await harness_of(a).open(user.uid, lifetime=0.5)
        miss = await a.store.check(session, user.uid)
        await a.store.remember(user, miss.version)
        await cached_in(a, user.uid, session)
        await asyncio.sleep(0.6)
        assert not (await a.store.check(session, user.uid)).live


async def test_an_entry_never_outlives_the_snapshot_it_was_read_from(
    redis_url: str, redis_prefix: str
) -> None:
    """The promise for a `forget` that never ran: the old account is served no longer than
    its snapshot lives in Redis, memory included."""
    async with worker(redis_url, redis_prefix) as a:
        user = make_user()
        session = await harness_of(a).open(user.uid, lifetime=3600)
        miss = await a.store.check(session, user.uid)
        await a.store.remember(user, miss.version)
        await a.client.pexpire(a.store.accounts.account_key(user.uid), 500)
        await cached_in(a, user.uid, session)
        await asyncio.sleep(0.6)
        assert (await a.store.check(session, user.uid)).user is None  # asks Redis: gone


async def test_a_worker_that_lost_its_subscription_asks_redis_until_it_is_back() -> None:
    with private_redis() as (url, _process):
        async with worker(url, "t:") as a, worker(url, "t:") as b:
            user, session = await session_with_snapshot(a)
            await cached_in(b, user, session)
            admin = aioredis.Redis.from_url(url)
            try:
                await admin.client_kill_filter(_type="pubsub")
                await eventually(lambda: not b.cache.trusted, "b notices")
                assert len(b.cache) == 0
                # revoked while b may not hear it: b must not answer from memory
                await a.store.revoke_session(session)
                assert not (await b.store.check(session, user)).live
                await eventually(lambda: b.cache.trusted, "b subscribes again")
                fresh_user, fresh = await session_with_snapshot(a)
                await cached_in(b, fresh_user, fresh)
            finally:
                await admin.aclose()


async def test_a_worker_whose_redis_stopped_trusts_nothing() -> None:
    with private_redis() as (url, process):
        async with worker(url, "t:") as a:
            user, session = await session_with_snapshot(a)
            await cached_in(a, user, session)
            process.terminate()
            process.wait(timeout=10)
            await eventually(lambda: not a.cache.trusted, "the worker notices")
            assert a.cache.get(session, user) is None
            with pytest.raises(ServiceUnavailable) as caught:
                await a.store.check(session, user)
            assert is_unavailable_error(caught.value.__cause__)
