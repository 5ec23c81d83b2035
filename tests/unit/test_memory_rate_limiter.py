from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.inprocess.rate_limiter import MemoryRateLimiter
from application.ports.limits import LimitState
from tests.fakes.clock import FixedClock
from tests.rate_limiter_contract import RATE_LIMITER_CHECKS, LimiterHarness


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
def harness(clock: FixedClock) -> LimiterHarness:
    async def pass_time(seconds: float) -> None:
        clock.advance(seconds)

    return LimiterHarness(limiter=MemoryRateLimiter(clock), pass_time=pass_time)


@pytest.mark.parametrize("check", RATE_LIMITER_CHECKS, ids=lambda check: check.__name__)
async def test_rate_limiter_contract(check, harness: LimiterHarness) -> None:
    await check(harness)


async def test_retry_after_counts_down_in_whole_seconds(clock: FixedClock) -> None:
    limiter = MemoryRateLimiter(clock)
    await limiter.hit("k", 900)
    clock.advance(600.5)
    assert await limiter.peek("k", 900) == LimitState(1, 300)
    clock.advance(299.6)
    assert await limiter.peek("k", 900) == LimitState(0, 0)


async def test_lapsed_windows_are_swept(clock: FixedClock) -> None:
    limiter = MemoryRateLimiter(clock)
    for n in range(3000):
        await limiter.hit(f"ip:{n}", 1)
    clock.advance(2)
    for n in range(3000):
        await limiter.hit(f"other:{n}", 60)
    assert len(limiter._windows) <= 3000  # type: ignore[attr-defined]
