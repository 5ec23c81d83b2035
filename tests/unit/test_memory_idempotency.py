"""The in-memory idempotency store keeps the contract every backend keeps."""

from __future__ import annotations

import pytest

from tests.fakes.clock import FixedClock
from tests.fakes.idempotency import MemoryIdempotencyStore
from tests.idempotency_contract import IDEMPOTENCY_CHECKS, IdempotencyHarness


@pytest.fixture
def harness() -> IdempotencyHarness:
    clock = FixedClock()

    async def pass_time(seconds: float) -> None:
        clock.advance(seconds)

    return IdempotencyHarness(MemoryIdempotencyStore(clock), pass_time)


@pytest.mark.parametrize("check", IDEMPOTENCY_CHECKS, ids=lambda check: check.__name__)
async def test_idempotency_contract(check, harness: IdempotencyHarness) -> None:
    await check(harness)
