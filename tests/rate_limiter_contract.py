"""What every `RateLimiter` does, as checks that any backend's tests can run.

A backend's test module builds a `LimiterHarness` (a fixture) and runs every check:

    @pytest.mark.parametrize("check", RATE_LIMITER_CHECKS, ids=lambda check: check.__name__)
    async def test_rate_limiter_contract(check, harness): await check(harness)

`pass_time(seconds)` must make that much time pass for the limiter (advance a fake
clock, or sleep when the server keeps the time).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import uuid4

from application.ports.limits import LimitState, RateLimiter

WINDOW = 60


@dataclass
class LimiterHarness:
    limiter: RateLimiter
    pass_time: Callable[[float], Awaitable[None]]


def fresh_key() -> str:
    return f"login:{uuid4()}"


async def check_nothing_counted_yet(h: LimiterHarness) -> None:
    assert await h.limiter.peek(fresh_key(), WINDOW) == LimitState(0, 0)


async def check_hits_count_up_within_the_window(h: LimiterHarness) -> None:
    key = fresh_key()
    states = [await h.limiter.hit(key, WINDOW) for _ in range(3)]
    assert [state.count for state in states] == [1, 2, 3]
    assert all(0 < state.retry_after_seconds <= WINDOW for state in states)
    peeked = await h.limiter.peek(key, WINDOW)
    assert peeked.count == 3
    assert WINDOW - 2 <= peeked.retry_after_seconds <= WINDOW


async def check_peek_does_not_count(h: LimiterHarness) -> None:
    key = fresh_key()
    await h.limiter.hit(key, WINDOW)
    for _ in range(3):
        assert (await h.limiter.peek(key, WINDOW)).count == 1


async def check_keys_are_counted_apart(h: LimiterHarness) -> None:
    first, second = fresh_key(), fresh_key()
    await h.limiter.hit(first, WINDOW)
    await h.limiter.hit(first, WINDOW)
    assert (await h.limiter.hit(second, WINDOW)).count == 1
    assert (await h.limiter.peek(first, WINDOW)).count == 2


async def check_reset_forgets_the_count(h: LimiterHarness) -> None:
    key = fresh_key()
    await h.limiter.hit(key, WINDOW)
    await h.limiter.hit(key, WINDOW)
    await h.limiter.reset(key)
    assert await h.limiter.peek(key, WINDOW) == LimitState(0, 0)
    assert (await h.limiter.hit(key, WINDOW)).count == 1
    await h.limiter.reset(fresh_key())  # resetting nothing is harmless


async def check_window_is_fixed_and_then_starts_anew(h: LimiterHarness) -> None:
    key = fresh_key()
    assert (await h.limiter.hit(key, 1)).retry_after_seconds == 1
    await h.pass_time(0.6)
    later = await h.limiter.hit(key, 1)  # a hit inside the window does not extend it
    assert later == LimitState(2, 1)
    await h.pass_time(0.5)
    assert await h.limiter.peek(key, 1) == LimitState(0, 0)
    assert await h.limiter.hit(key, 1) == LimitState(1, 1)


async def check_concurrent_hits_all_count(h: LimiterHarness) -> None:
    key = fresh_key()
    states = await asyncio.gather(*(h.limiter.hit(key, WINDOW) for _ in range(20)))
    assert sorted(state.count for state in states) == list(range(1, 21))
    assert (await h.limiter.peek(key, WINDOW)).count == 20


RATE_LIMITER_CHECKS = [
    check_nothing_counted_yet,
    check_hits_count_up_within_the_window,
    check_peek_does_not_count,
    check_keys_are_counted_apart,
    check_reset_forgets_the_count,
    check_window_is_fixed_and_then_starts_anew,
    check_concurrent_hits_all_count,
]
