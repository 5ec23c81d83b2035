"""SqlTokenStore on SQLite and PostgreSQL: the TokenStore contract, and its own tables."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.sqlalchemy.tables import auth_sessions, link_claims, users
from adapters.sqlalchemy.token_store import SqlTokenStore
from application.ports.sessions import RotationOutcome
from tests.fakes.clock import FixedClock
from tests.token_store_contract import TOKEN_STORE_CHECKS, StoreHarness

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class StoreForExistingUsers(SqlTokenStore):
    """Sessions reference `users`; the contract's made-up users are created first."""

    async def open_session(
        self, session_id: UUID, user_id: UUID, refresh_token_id: str, expires_at: datetime
    ) -> None:
        await ensure_user(self._session_factory, user_id)
        await super().open_session(session_id, user_id, refresh_token_id, expires_at)


async def ensure_user(sessions: async_sessionmaker[AsyncSession], uid: UUID) -> None:
    async with sessions.begin() as session:
        if await session.scalar(select(users.c.uid).where(users.c.uid == uid)) is None:
            await session.execute(
                insert(users).values(
                    uid=uid,
                    email=f"{uid}@example.com",
                    username=uid.hex[:32],
                    first_name="A",
                    last_name="B",
                    password_hash="x",
                    role="user",
                    is_verified=True,
                    is_active=True,
                    created_at=START,
                    updated_at=START,
                )
            )


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def harness(sql_sessions: async_sessionmaker[AsyncSession], clock: FixedClock) -> StoreHarness:
    async def pass_time(seconds: float) -> None:
        clock.advance(seconds)

    store = StoreForExistingUsers(sql_sessions, clock)
    return StoreHarness(store=store, clock=clock, pass_time=pass_time)


@pytest.mark.parametrize("check", TOKEN_STORE_CHECKS, ids=lambda check: check.__name__)
async def test_token_store_contract(check, harness: StoreHarness) -> None:
    await check(harness)


async def count(sessions: async_sessionmaker[AsyncSession], table, **where: object) -> int:
    query = select(func.count()).select_from(table)
    for column, value in where.items():
        query = query.where(table.c[column] == value)
    async with sessions() as session:
        return int(await session.scalar(query) or 0)


async def test_expired_rows_are_cleaned_up_by_later_writes(
    harness: StoreHarness, clock: FixedClock, sql_sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = uuid4()
    for _ in range(3):
        await harness.open(user, lifetime=10)
    await harness.store.claim_once("old-claim", harness.after(10))
    clock.advance(11)
    kept = await harness.open(user)
    assert await harness.store.claim_once("new-claim", harness.after(10))
    assert await count(sql_sessions, auth_sessions) == 1
    assert await count(sql_sessions, auth_sessions, session_id=kept) == 1
    assert await count(sql_sessions, link_claims) == 1


async def test_expiry_is_stored_as_utc(
    harness: StoreHarness, sql_sessions: async_sessionmaker[AsyncSession]
) -> None:
    session = await harness.open(lifetime=60)
    async with sql_sessions() as db:
        stored = await db.scalar(
            select(auth_sessions.c.expires_at).where(auth_sessions.c.session_id == session)
        )
    assert stored == START + timedelta(seconds=60)
    assert stored.tzinfo is UTC


async def test_deleting_a_user_deletes_its_sessions(
    harness: StoreHarness, sql_sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = uuid4()
    session = await harness.open(user)
    async with sql_sessions.begin() as db:
        await db.execute(delete(users).where(users.c.uid == user))
    assert not await harness.store.is_live(session)
    assert await harness.store.rotate(session, "t0", "t1") is RotationOutcome.UNKNOWN


async def test_concurrent_logins_purge_without_conflicts(
    harness: StoreHarness, clock: FixedClock, sql_sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = uuid4()
    for _ in range(30):
        await harness.open(user, lifetime=10)
    clock.advance(11)
    fresh = await asyncio.gather(*(harness.open(user) for _ in range(15)))
    assert await count(sql_sessions, auth_sessions) == len(fresh)


async def test_concurrent_claims_of_one_key_let_exactly_one_win(harness: StoreHarness) -> None:
    claims = await asyncio.gather(
        *(harness.store.claim_once("reset:once", harness.after(60)) for _ in range(10))
    )
    assert claims.count(True) == 1
