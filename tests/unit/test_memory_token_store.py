from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.fakes.clock import FixedClock
from tests.fakes.token_store import MemoryTokenStore
from tests.token_store_contract import TOKEN_STORE_CHECKS, StoreHarness


@pytest.fixture
def harness() -> StoreHarness:
    clock = FixedClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))

    async def pass_time(seconds: float) -> None:
        clock.advance(seconds)

    return StoreHarness(store=MemoryTokenStore(clock), clock=clock, pass_time=pass_time)


@pytest.mark.parametrize("check", TOKEN_STORE_CHECKS, ids=lambda check: check.__name__)
async def test_token_store_contract(check, harness: StoreHarness) -> None:
    await check(harness)


async def test_a_session_that_is_already_over_is_not_kept(harness: StoreHarness) -> None:
    session = await harness.open(lifetime=-1)
    assert not await harness.store.is_live(session)


async def test_expired_sessions_are_dropped(harness: StoreHarness) -> None:
    await harness.open(lifetime=10)
    await harness.pass_time(11)
    await harness.open()
    assert len(harness.store._sessions) == 1  # type: ignore[attr-defined]
