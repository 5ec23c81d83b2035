"""Login sessions and account snapshots in dicts, expiring by the injected clock; the
unit tests' double.

No method awaits anything, so each runs to completion without interleaving: the
compare-and-swap in `rotate` and `remember` is atomic on the event loop.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from application.ports.clock import Clock
from application.ports.sessions import RotationOutcome, SessionCheck
from domain.users import User


@dataclass(slots=True)
class _Session:
    user_id: UUID
    refresh_token_id: str
    expires_at: datetime


class MemoryTokenStore:
    """Caches account snapshots like the Redis store (`account_ttl_seconds`, 0: never), so
    unit tests see what a missed invalidation would do."""

    def __init__(self, clock: Clock, account_ttl_seconds: int = 300) -> None:
        self._clock = clock
        self._account_ttl = timedelta(seconds=account_ttl_seconds)
        self._sessions: dict[UUID, _Session] = {}
        self._claims: dict[str, datetime] = {}
        self._accounts: dict[UUID, tuple[User, datetime]] = {}  # snapshot, expires at
        self._versions: dict[UUID, int] = {}

    def _live(self, session_id: UUID) -> _Session | None:
        session = self._sessions.get(session_id)
        if session is not None and session.expires_at <= self._clock.now():
            del self._sessions[session_id]
            return None
        return session

    def _prune(self) -> None:
        now = self._clock.now()
        self._sessions = {k: s for k, s in self._sessions.items() if s.expires_at > now}
        self._claims = {k: until for k, until in self._claims.items() if until > now}

    async def open_session(
        self, session_id: UUID, user_id: UUID, refresh_token_id: str, expires_at: datetime
    ) -> None:
        self._prune()
        if expires_at > self._clock.now():
            self._sessions[session_id] = _Session(user_id, refresh_token_id, expires_at)

    async def is_live(self, session_id: UUID) -> bool:
        return self._live(session_id) is not None

    async def check(self, session_id: UUID, user_id: UUID) -> SessionCheck:
        live = self._live(session_id) is not None
        if not self._account_ttl:
            return SessionCheck(live, None, None)
        cached = self._accounts.get(user_id)
        user = None
        if cached is not None and cached[1] > self._clock.now():
            user = dataclasses.replace(cached[0])  # a copy, as if read from a server
        return SessionCheck(live, user, str(self._versions.get(user_id, 0)))

    async def remember(self, user: User, version: str | None) -> None:
        if not self._account_ttl or version != str(self._versions.get(user.uid, 0)):
            return
        snapshot = dataclasses.replace(user, password_hash="")
        self._accounts[user.uid] = (snapshot, self._clock.now() + self._account_ttl)

    async def forget(self, user_ids: Collection[UUID]) -> None:
        for uid in user_ids:
            self._versions[uid] = self._versions.get(uid, 0) + 1
            self._accounts.pop(uid, None)

    async def rotate(
        self, session_id: UUID, presented_token_id: str, new_token_id: str
    ) -> RotationOutcome:
        session = self._live(session_id)
        if session is None:
            return RotationOutcome.UNKNOWN
        if session.refresh_token_id != presented_token_id:
            del self._sessions[session_id]
            return RotationOutcome.REUSED
        session.refresh_token_id = new_token_id
        return RotationOutcome.ROTATED

    async def revoke_session(self, session_id: UUID) -> None:
        self._sessions.pop(session_id, None)

    async def revoke_user(self, user_id: UUID) -> None:
        self._sessions = {k: s for k, s in self._sessions.items() if s.user_id != user_id}

    async def claim_once(self, key: str, expires_at: datetime) -> bool:
        now = self._clock.now()
        until = self._claims.get(key)
        if until is not None and until > now:
            return False
        if expires_at > now:
            self._claims[key] = expires_at
        return True
