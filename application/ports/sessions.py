"""Where login sessions and their refresh-token generations are kept."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Protocol
from uuid import UUID

from domain.users import User


class RotationOutcome(Enum):
    ROTATED = "rotated"  # the presented refresh token was current; it is now spent
    REUSED = "reused"  # a spent token came back: the session has been revoked
    UNKNOWN = "unknown"  # no such live session (logged out, revoked or expired)


@dataclass(frozen=True, slots=True)
class SessionCheck:
    live: bool
    user: User | None  # the cached account (password_hash ""), None if not cached
    version: str | None  # hand it back to `remember` after a miss; None: do not remember


class TokenStore(Protocol):
    """Sessions live until `expires_at`; every token names its session.

    Access and refresh tokens are good only while their session is live, so revoking
    a session (or every session of a user) ends all of its tokens at once.
    """

    async def open_session(
        self, session_id: UUID, user_id: UUID, refresh_token_id: str, expires_at: datetime
    ) -> None: ...

    async def is_live(self, session_id: UUID) -> bool: ...

    async def check(self, session_id: UUID, user_id: UUID) -> SessionCheck:
        """Whether the session is live, and the account snapshot cached for `user_id` if
        there is one, in one round trip: the hot path of every authenticated request."""

    async def remember(self, user: User, version: str | None) -> None:
        """Cache `user` (never its password hash) for a while, unless `forget` has named it
        since the `check` that returned `version`: a snapshot loaded before a change
        committed must not outlive the change's `forget`."""

    async def forget(self, user_ids: Collection[UUID]) -> None:
        """Drop the snapshots of these users and void the versions handed out for them;
        called after every committed change of a user."""

    async def rotate(
        self, session_id: UUID, presented_token_id: str, new_token_id: str
    ) -> RotationOutcome:
        """Atomically swap the current refresh token id; revokes the session on reuse."""

    async def revoke_session(self, session_id: UUID) -> None: ...

    async def revoke_user(self, user_id: UUID) -> None:
        """End every session of the user."""

    async def claim_once(self, key: str, expires_at: datetime) -> bool:
        """True the first time `key` is claimed; False while an earlier claim stands."""
