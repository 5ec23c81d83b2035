"""Where login sessions and their refresh-token generations are kept."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Protocol
from uuid import UUID


class RotationOutcome(Enum):
    ROTATED = "rotated"  # the presented refresh token was current; it is now spent
    REUSED = "reused"  # a spent token came back: the session has been revoked
    UNKNOWN = "unknown"  # no such live session (logged out, revoked or expired)


class TokenStore(Protocol):
    """Sessions live until `expires_at`; every token names its session.

    Access and refresh tokens are good only while their session is live, so revoking
    a session (or every session of a user) ends all of its tokens at once.
    """

    async def open_session(
        self, session_id: UUID, user_id: UUID, refresh_token_id: str, expires_at: datetime
    ) -> None: ...

    async def is_live(self, session_id: UUID) -> bool: ...

    async def rotate(
        self, session_id: UUID, presented_token_id: str, new_token_id: str
    ) -> RotationOutcome:
        """Atomically swap the current refresh token id; revokes the session on reuse."""

    async def revoke_session(self, session_id: UUID) -> None: ...

    async def revoke_user(self, user_id: UUID) -> None:
        """End every session of the user."""

    async def claim_once(self, key: str, expires_at: datetime) -> bool:
        """True the first time `key` is claimed; False while an earlier claim stands."""
