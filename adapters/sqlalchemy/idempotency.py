"""Idempotency keys in the database (where Redis is not configured)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.sqlalchemy.tables import idempotency_keys as keys
from adapters.sqlalchemy.token_store import purge_expired
from application.ports.clock import Clock
from application.ports.idempotency import Claim, Reservation, StoredAnswer

_UNANSWERED = keys.c.status_code.is_(None)


class SqlIdempotencyStore:
    """`IdempotencyStore` in the `idempotency_keys` table; each call a short transaction
    of its own. Of two `reserve`s racing for a free key, the second's INSERT waits for
    the first's and fails on the primary key."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = session_factory
        self._clock = clock

    async def reserve(self, key: str, fingerprint: str, lease_seconds: float) -> Reservation:
        now = self._clock.now()
        fresh = {"fingerprint": fingerprint, "expires_at": now + timedelta(seconds=lease_seconds)}
        try:
            async with self._sessions.begin() as session:
                await purge_expired(session, keys, now)
                taken = await session.execute(  # a lease run out, or an answer expired
                    update(keys)
                    .where(keys.c.key == key, keys.c.expires_at <= now)
                    .values(status_code=None, headers=None, body=None, **fresh)
                )
                if cast(CursorResult[Any], taken).rowcount == 0:
                    await session.execute(insert(keys).values(key=key, **fresh))
            return Reservation(Claim.OWNED)
        except IntegrityError:
            pass  # held: see by whom
        async with self._sessions() as session:
            row = (await session.execute(select(keys).where(keys.c.key == key))).first()
        if row is None or row.expires_at <= now:  # released or lapsed meanwhile
            return Reservation(Claim.RUNNING)  # the client's retry will find it free
        if row.fingerprint != fingerprint:
            return Reservation(Claim.REUSED)
        if row.status_code is None:
            return Reservation(Claim.RUNNING)
        headers = tuple((str(name), str(value)) for name, value in row.headers)
        return Reservation(Claim.DONE, StoredAnswer(row.status_code, headers, row.body))

    async def complete(
        self, key: str, fingerprint: str, answer: StoredAnswer, ttl_seconds: float
    ) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(keys)
                .where(keys.c.key == key, keys.c.fingerprint == fingerprint, _UNANSWERED)
                .values(
                    status_code=answer.status,
                    headers=[list(pair) for pair in answer.headers],
                    body=answer.body,
                    expires_at=self._clock.now() + timedelta(seconds=ttl_seconds),
                )
            )

    async def release(self, key: str, fingerprint: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                delete(keys).where(
                    keys.c.key == key, keys.c.fingerprint == fingerprint, _UNANSWERED
                )
            )
