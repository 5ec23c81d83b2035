"""What every `TokenStore` does, as checks that any backend's tests can run.

A backend's test module builds a `StoreHarness` (a fixture) and runs every check:

    @pytest.mark.parametrize("check", TOKEN_STORE_CHECKS, ids=lambda check: check.__name__)
    async def test_token_store_contract(check, harness): await check(harness)

`pass_time(seconds)` must make that much time pass for the store: advance a fake clock
for stores that read it, sleep for stores whose server keeps the time (Redis).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from application.ports.clock import Clock
from application.ports.sessions import RotationOutcome, TokenStore

# Short enough for a server that must really wait; long enough to act within it.
SHORT_LIFE = 0.6
HOUR = timedelta(hours=1)


@dataclass
class StoreHarness:
    store: TokenStore
    clock: Clock
    pass_time: Callable[[float], Awaitable[None]]

    def after(self, seconds: float) -> datetime:
        return self.clock.now() + timedelta(seconds=seconds)

    async def open(
        self, user: UUID | None = None, token: str = "t0", lifetime: float = HOUR.total_seconds()
    ) -> UUID:
        session = uuid4()
        await self.store.open_session(session, user or uuid4(), token, self.after(lifetime))
        return session


async def check_open_session_is_live(h: StoreHarness) -> None:
    session = await h.open()
    assert await h.store.is_live(session)
    assert not await h.store.is_live(uuid4())


async def check_rotation_follows_the_current_token(h: StoreHarness) -> None:
    session = await h.open(token="t0")
    assert await h.store.rotate(session, "t0", "t1") is RotationOutcome.ROTATED
    assert await h.store.rotate(session, "t1", "t2") is RotationOutcome.ROTATED
    assert await h.store.is_live(session)
    assert await h.store.rotate(uuid4(), "t0", "t1") is RotationOutcome.UNKNOWN


async def check_reuse_of_a_spent_token_revokes_the_session(h: StoreHarness) -> None:
    session = await h.open(token="t0")
    assert await h.store.rotate(session, "t0", "t1") is RotationOutcome.ROTATED
    assert await h.store.rotate(session, "t0", "t9") is RotationOutcome.REUSED
    assert not await h.store.is_live(session)
    assert await h.store.rotate(session, "t1", "t2") is RotationOutcome.UNKNOWN


async def check_revoke_session_ends_only_that_session(h: StoreHarness) -> None:
    user = uuid4()
    first, second = await h.open(user), await h.open(user)
    await h.store.revoke_session(first)
    assert not await h.store.is_live(first)
    assert await h.store.is_live(second)
    assert await h.store.rotate(first, "t0", "t1") is RotationOutcome.UNKNOWN
    await h.store.revoke_session(first)  # twice, and unknown ids, are harmless
    await h.store.revoke_session(uuid4())


async def check_revoke_user_ends_every_session_of_that_user(h: StoreHarness) -> None:
    user, other = uuid4(), uuid4()
    sessions = [await h.open(user) for _ in range(3)]
    bystander = await h.open(other)
    await h.store.revoke_user(user)
    for session in sessions:
        assert not await h.store.is_live(session)
    assert await h.store.is_live(bystander)
    await h.store.revoke_user(uuid4())  # a user without sessions
    later = await h.open(user)  # the user can log in again
    assert await h.store.is_live(later)


async def check_revoke_user_after_a_reuse_and_a_revoke(h: StoreHarness) -> None:
    user = uuid4()
    reused, revoked, kept = await h.open(user), await h.open(user), await h.open(user)
    await h.store.rotate(reused, "t0", "t1")
    await h.store.rotate(reused, "t0", "t2")
    await h.store.revoke_session(revoked)
    assert await h.store.is_live(kept)
    await h.store.revoke_user(user)
    assert not await h.store.is_live(kept)


async def check_session_expires_and_rotation_does_not_extend_it(h: StoreHarness) -> None:
    session = await h.open(token="t0", lifetime=SHORT_LIFE)
    await h.pass_time(SHORT_LIFE / 2)
    assert await h.store.rotate(session, "t0", "t1") is RotationOutcome.ROTATED
    assert await h.store.is_live(session)
    await h.pass_time(SHORT_LIFE / 2 + 0.1)
    assert not await h.store.is_live(session)
    assert await h.store.rotate(session, "t1", "t2") is RotationOutcome.UNKNOWN


async def check_concurrent_rotations_let_exactly_one_win(h: StoreHarness) -> None:
    session = await h.open(token="t0")
    outcomes = await asyncio.gather(*(h.store.rotate(session, "t0", f"new-{n}") for n in range(20)))
    assert outcomes.count(RotationOutcome.ROTATED) == 1
    # The losers presented a token that had just been spent: theft, as far as the
    # store can tell, so the session is revoked (later ones find it gone).
    assert outcomes.count(RotationOutcome.REUSED) >= 1
    assert not await h.store.is_live(session)


async def check_claim_once(h: StoreHarness) -> None:
    key = f"reset:{uuid4()}"
    assert await h.store.claim_once(key, h.after(3600))
    assert not await h.store.claim_once(key, h.after(3600))
    assert await h.store.claim_once(f"reset:{uuid4()}", h.after(3600))


async def check_claim_lapses_with_its_expiry(h: StoreHarness) -> None:
    key = f"verify:{uuid4()}"
    assert await h.store.claim_once(key, h.after(SHORT_LIFE))
    assert not await h.store.claim_once(key, h.after(SHORT_LIFE))
    await h.pass_time(SHORT_LIFE + 0.1)
    assert await h.store.claim_once(key, h.after(SHORT_LIFE))


TOKEN_STORE_CHECKS = [
    check_open_session_is_live,
    check_rotation_follows_the_current_token,
    check_reuse_of_a_spent_token_revokes_the_session,
    check_revoke_session_ends_only_that_session,
    check_revoke_user_ends_every_session_of_that_user,
    check_revoke_user_after_a_reuse_and_a_revoke,
    check_session_expires_and_rotation_does_not_extend_it,
    check_concurrent_rotations_let_exactly_one_win,
    check_claim_once,
    check_claim_lapses_with_its_expiry,
]
