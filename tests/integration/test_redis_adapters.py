"""The Redis token store and rate limiter against a real server."""

from __future__ import annotations

import asyncio
import socket
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit
from uuid import uuid4

import pytest
import redis.asyncio as aioredis

from adapters.inprocess.clock import SystemClock
from adapters.redis.client import create_redis, is_unavailable_error
from adapters.redis.rate_limiter import RedisRateLimiter
from adapters.redis.token_store import RedisTokenStore
from application.ports.sessions import RotationOutcome
from domain.errors import ServiceUnavailable
from tests.rate_limiter_contract import RATE_LIMITER_CHECKS, LimiterHarness
from tests.services import private_redis, start_redis_on
from tests.token_store_contract import TOKEN_STORE_CHECKS, StoreHarness

pytestmark = pytest.mark.redis


async def _sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


@pytest.fixture
def store(client: aioredis.Redis, redis_prefix: str) -> RedisTokenStore:
    return RedisTokenStore(client, SystemClock(), key_prefix=redis_prefix)


@pytest.fixture
def limiter(client: aioredis.Redis, redis_prefix: str) -> RedisRateLimiter:
    return RedisRateLimiter(client, key_prefix=redis_prefix)


@pytest.fixture
def harness(store: RedisTokenStore) -> StoreHarness:
    return StoreHarness(store=store, clock=SystemClock(), pass_time=_sleep)


@pytest.mark.parametrize("check", TOKEN_STORE_CHECKS, ids=lambda check: check.__name__)
async def test_token_store_contract(check, harness: StoreHarness) -> None:
    await check(harness)


@pytest.mark.parametrize("check", RATE_LIMITER_CHECKS, ids=lambda check: check.__name__)
async def test_rate_limiter_contract(check, limiter: RedisRateLimiter) -> None:
    await check(LimiterHarness(limiter=limiter, pass_time=_sleep))


async def test_session_keys_expire_with_the_session(
    harness: StoreHarness, store: RedisTokenStore, client: aioredis.Redis
) -> None:
    user = uuid4()
    session = await harness.open(user, token="t0", lifetime=3600)
    ttl = await client.pttl(store.session_key(session))
    assert 3600_000 - 2000 < ttl <= 3600_000
    assert await client.hgetall(store.session_key(session)) == {
        b"user": str(user).encode(),
        b"refresh": b"t0",
    }
    assert await client.smembers(store.user_sessions_key(user)) == {str(session).encode()}

    await store.rotate(session, "t0", "t1")
    assert abs(await client.pttl(store.session_key(session)) - ttl) < 2000  # not extended


async def test_user_set_lives_as_long_as_the_latest_session(
    harness: StoreHarness, store: RedisTokenStore, client: aioredis.Redis
) -> None:
    user = uuid4()
    await harness.open(user, lifetime=3600)
    await harness.open(user, lifetime=7200)
    await harness.open(user, lifetime=1800)  # a shorter one does not shorten the set
    ttl = await client.pttl(store.user_sessions_key(user))
    assert 7200_000 - 2000 < ttl <= 7200_000


async def test_logins_prune_sessions_that_have_gone(
    harness: StoreHarness, store: RedisTokenStore, client: aioredis.Redis
) -> None:
    user = uuid4()
    gone = await harness.open(user, lifetime=0.2)
    await asyncio.sleep(0.3)
    kept = await harness.open(user)
    members = await client.smembers(store.user_sessions_key(user))
    assert members == {str(kept).encode()}
    assert str(gone).encode() not in members


async def test_revocations_leave_no_keys_behind(
    harness: StoreHarness, store: RedisTokenStore, client: aioredis.Redis, redis_prefix: str
) -> None:
    user = uuid4()
    first, second = await harness.open(user), await harness.open(user)
    await store.revoke_session(first)
    assert await client.smembers(store.user_sessions_key(user)) == {str(second).encode()}
    await store.revoke_user(user)
    assert [key async for key in client.scan_iter(match=redis_prefix + "*")] == []


async def test_claim_and_rate_keys_expire_on_time(
    harness: StoreHarness, store: RedisTokenStore, limiter: RedisRateLimiter, client: aioredis.Redis
) -> None:
    assert await store.claim_once("reset:abc", harness.after(600))
    assert 600_000 - 2000 < await client.pttl(store.claim_key("reset:abc")) <= 600_000
    await limiter.hit("login:someone", 900)
    await limiter.hit("login:someone", 900)
    assert 900_000 - 2000 < await client.pttl(limiter.key("login:someone")) <= 900_000
    assert await client.get(limiter.key("login:someone")) == b"2"


async def test_a_counter_without_expiry_gets_one(
    limiter: RedisRateLimiter, client: aioredis.Redis
) -> None:
    await client.set(limiter.key("ip:1"), 5)
    state = await limiter.hit("ip:1", 60)
    assert state.count == 6 and state.retry_after_seconds == 60
    assert 0 < await client.pttl(limiter.key("ip:1")) <= 60_000


async def _assert_fails_fast(operation) -> None:
    """Fails at once, with the adapters' one error for it, caused by the driver's."""
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable) as caught:
        await operation
    assert time.monotonic() - started < 2.0
    assert caught.value.dependency == "redis"
    assert is_unavailable_error(caught.value.__cause__), repr(caught.value.__cause__)


async def test_a_silent_server_times_out_once_without_retries() -> None:
    with socket.socket() as listener:  # accepts connections, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        client = create_redis(f"redis://127.0.0.1:{listener.getsockname()[1]}/0", timeout=0.3)
        started = time.monotonic()
        with pytest.raises(Exception) as caught:  # the kind is checked below
            await client.exists("x")
        assert 0.25 < time.monotonic() - started < 0.55
        assert is_unavailable_error(caught.value)
        await client.aclose()


async def test_server_down_fails_fast_and_recovers() -> None:
    with private_redis() as (url, process), tempfile.TemporaryDirectory() as workdir:
        client = create_redis(url)
        store = RedisTokenStore(client, SystemClock(), key_prefix="t:")
        limiter = RedisRateLimiter(client, key_prefix="t:")
        clock = SystemClock()
        try:
            session = uuid4()
            await store.open_session(session, uuid4(), "t0", clock.now() + timedelta(hours=1))
            assert await store.is_live(session)

            process.terminate()
            process.wait(timeout=10)
            await _assert_fails_fast(store.is_live(session))
            await _assert_fails_fast(store.rotate(session, "t0", "t1"))
            await _assert_fails_fast(store.revoke_user(uuid4()))
            await _assert_fails_fast(store.claim_once("k", clock.now() + timedelta(hours=1)))
            await _assert_fails_fast(limiter.hit("ip:1", 60))
            await _assert_fails_fast(limiter.peek("ip:1", 60))

            port = urlsplit(url).port
            assert port is not None
            restarted = start_redis_on(port, Path(workdir))
            try:
                again = uuid4()  # a fresh server: scripts and data must be loaded anew
                await store.open_session(again, uuid4(), "t0", clock.now() + timedelta(hours=1))
                assert await store.rotate(again, "t0", "t1") is RotationOutcome.ROTATED
                assert (await limiter.hit("ip:1", 60)).count == 1
            finally:
                restarted.terminate()
                restarted.wait(timeout=10)
        finally:
            await client.aclose()
