"""Login sessions and one-time claims kept in the database (the embedded default)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.sqlalchemy.tables import auth_sessions, link_claims
from application.ports.clock import Clock
from application.ports.sessions import RotationOutcome, SessionCheck
from domain.users import User

# Expired rows deleted per write at most, so a cleanup never holds up a request for long.
PURGE_BATCH = 100


class SqlTokenStore:
    """Each method is one short transaction of its own.

    Caches no accounts: the database is local, so a snapshot would save little, and it
    would be a second copy to keep in step with the users table.
    """

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._session_factory = session_factory
        self._clock = clock

    async def open_session(
        self, session_id: UUID, user_id: UUID, refresh_token_id: str, expires_at: datetime
    ) -> None:
        async with self._session_factory.begin() as session:
            await purge_expired(session, auth_sessions, self._clock.now())
            await session.execute(
                insert(auth_sessions).values(
                    session_id=session_id,
                    user_uid=user_id,
                    refresh_token_id=refresh_token_id,
                    expires_at=expires_at,
                )
            )

    async def is_live(self, session_id: UUID) -> bool:
        query = select(auth_sessions.c.session_id).where(
            auth_sessions.c.session_id == session_id, auth_sessions.c.expires_at > self._clock.now()
        )
        async with self._session_factory() as session:
            return (await session.scalar(query)) is not None

    async def check(self, session_id: UUID, user_id: UUID) -> SessionCheck:
        return SessionCheck(await self.is_live(session_id), None, None)

    async def remember(self, user: User, version: str | None) -> None:
        return None

    async def forget(self, user_ids: Collection[UUID]) -> None:
        return None

    async def rotate(
        self, session_id: UUID, presented_token_id: str, new_token_id: str
    ) -> RotationOutcome:
        now = self._clock.now()
        this_live_session = (
            auth_sessions.c.session_id == session_id,
            auth_sessions.c.expires_at > now,
        )
        async with self._session_factory.begin() as session:
            swapped = await session.execute(
                update(auth_sessions)
                .where(*this_live_session, auth_sessions.c.refresh_token_id == presented_token_id)
                .values(refresh_token_id=new_token_id)
            )
            # An UPDATE or DELETE gives a CursorResult, which `execute` is typed as Result.
            if cast(CursorResult[Any], swapped).rowcount == 1:
                return RotationOutcome.ROTATED
            revoked = await session.execute(delete(auth_sessions).where(*this_live_session))
            gone = cast(CursorResult[Any], revoked).rowcount
            return RotationOutcome.REUSED if gone else RotationOutcome.UNKNOWN

    async def revoke_session(self, session_id: UUID) -> None:
        async with self._session_factory.begin() as session:
            await session.execute(
                delete(auth_sessions).where(auth_sessions.c.session_id == session_id)
            )

    async def revoke_user(self, user_id: UUID) -> None:
        async with self._session_factory.begin() as session:
            await session.execute(delete(auth_sessions).where(auth_sessions.c.user_uid == user_id))

    async def claim_once(self, key: str, expires_at: datetime) -> bool:
        now = self._clock.now()
        try:
            async with self._session_factory.begin() as session:
                await purge_expired(session, link_claims, now)
                # An expired claim of the same key is taken over in place (atomically).
                taken_over = await session.execute(
                    update(link_claims)
                    .where(link_claims.c.key == key, link_claims.c.expires_at <= now)
                    .values(expires_at=expires_at)
                )
                if cast(CursorResult[Any], taken_over).rowcount == 0:  # as in `rotate`
                    claim = insert(link_claims).values(key=key, expires_at=expires_at)
                    await session.execute(claim)
        except IntegrityError:
            return False  # an unexpired claim of this key stands
        return True


async def purge_expired(session: AsyncSession, table: Table, now: datetime) -> None:
    """Delete a bounded batch of expired rows; uses the index on `expires_at`.

    On PostgreSQL rows another transaction is deleting are skipped, so concurrent
    purges neither wait for nor deadlock with each other (SQLite has one writer anyway).
    """
    (key,) = table.primary_key.columns
    expired = (
        select(key)
        .where(table.c.expires_at <= now)
        .limit(PURGE_BATCH)
        .with_for_update(skip_locked=True)
    )
    await session.execute(delete(table).where(key.in_(expired)))
