"""Login sessions in a dict, expiring by the injected clock; the unit tests' double.

No method awaits anything, so each runs to completion without interleaving: the
compare-and-swap in `rotate` is atomic on the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from application.ports.clock import Clock
from application.ports.sessions import RotationOutcome


@dataclass(slots=True)
class _Session:
    user_id: UUID
    refresh_token_id: str
    expires_at: datetime


class MemoryTokenStore:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._sessions: dict[UUID, _Session] = {}
        self._claims: dict[str, datetime] = {}

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
