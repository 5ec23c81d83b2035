from __future__ import annotations

import asyncio
import os
import time

import pytest

from adapters.argon2.hasher import Argon2PasswordHasher
from adapters.argon2.threads import hashing_threads
from entrypoints.container import build_container
from entrypoints.settings import Settings

FAST = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}


@pytest.fixture(scope="module")
def hasher() -> Argon2PasswordHasher:
    return Argon2PasswordHasher(**FAST)


async def test_hash_and_verify(hasher: Argon2PasswordHasher) -> None:
    password_hash = await hasher.hash("correct horse battery staple")
    assert password_hash.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert await hasher.verify(password_hash, "correct horse battery staple")
    assert not await hasher.verify(password_hash, "correct horse battery stapl")
    assert not await hasher.verify(password_hash, "")
    assert await hasher.hash("same") != await hasher.hash("same")  # salted


@pytest.mark.parametrize(
    "garbage", ["", "not a hash", "$argon2id$v=19$m=1024,t=1,p=1$bad$bad", "$2b$12$abc", "é"]
)
async def test_unreadable_hash_is_a_mismatch(hasher: Argon2PasswordHasher, garbage: str) -> None:
    assert await hasher.verify(garbage, "password") is False
    assert hasher.needs_rehash(garbage)


async def test_verify_dummy_returns_nothing(hasher: Argon2PasswordHasher) -> None:
    assert await hasher.verify_dummy("whatever") is None


async def test_needs_rehash_when_parameters_change(hasher: Argon2PasswordHasher) -> None:
    password_hash = await hasher.hash("password-1")
    assert not hasher.needs_rehash(password_hash)
    stronger = Argon2PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    assert stronger.needs_rehash(password_hash)
    assert await stronger.verify(password_hash, "password-1")  # old hashes still verify


async def test_defaults_meet_owasp_minimum() -> None:
    params = Argon2PasswordHasher()._argon2._parameters  # type: ignore[attr-defined]
    assert params.type.name == "ID"
    assert params.memory_cost >= 19 * 1024 and params.time_cost >= 2
    assert params.parallelism == 1


async def test_hashing_runs_off_the_event_loop() -> None:
    slow = Argon2PasswordHasher(time_cost=2, memory_cost=16384, parallelism=1)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.001)

    task = asyncio.create_task(ticker())
    started = time.monotonic()
    await asyncio.gather(*(slow.hash("password") for _ in range(4)))
    elapsed = time.monotonic() - started
    task.cancel()
    assert ticks >= 3, (ticks, elapsed)  # the loop kept running while hashing


async def test_dummy_costs_about_one_verification() -> None:
    slow = Argon2PasswordHasher(time_cost=2, memory_cost=16384, parallelism=1)
    real = await slow.hash("password")
    started = time.perf_counter()
    for _ in range(3):
        await slow.verify(real, "wrong")
    real_cost = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(3):
        await slow.verify_dummy("wrong")
    dummy_cost = time.perf_counter() - started
    assert 0.33 < dummy_cost / real_cost < 3


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="SCHED_IDLE is Linux's")
def test_hashing_threads_run_under_sched_idle_and_leave_the_caller_alone() -> None:
    with hashing_threads(2, idle_priority=True) as pool:
        policies = {pool.submit(os.sched_getscheduler, 0).result() for _ in range(6)}
    assert policies == {os.SCHED_IDLE}
    assert os.sched_getscheduler(0) != os.SCHED_IDLE  # the event loop's thread
    with hashing_threads(1, idle_priority=False) as pool:
        assert pool.submit(os.sched_getscheduler, 0).result() == os.sched_getscheduler(0)


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="SCHED_IDLE is Linux's")
@pytest.mark.parametrize(
    ("setting", "idle"), [({}, True), ({"argon2_idle_priority": False}, False)]
)
def test_the_service_hashes_under_sched_idle_unless_told_not_to(setting, idle) -> None:
    container = build_container(Settings(_env_file=None, secret_key="s" * 40, **setting))
    pool = container.argon2_threads()
    try:
        policy = pool.submit(os.sched_getscheduler, 0).result()
    finally:
        pool.shutdown()
    assert (policy == os.SCHED_IDLE) is idle
