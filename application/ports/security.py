"""Ports for secrets: password hashing, access tokens, signed links, password policy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol
from uuid import UUID


class PasswordHasher(Protocol):
    """Async so adapters can keep slow hashing off the event loop."""

    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str, password: str) -> bool:
        """False for a wrong password or an unreadable hash; never raises for those."""

    async def verify_dummy(self, password: str) -> None:
        """Spend the time of one verification, for callers that have no hash to check."""

    def needs_rehash(self, password_hash: str) -> bool: ...


class CommonPasswords(Protocol):
    def is_common(self, password: str) -> bool: ...


class TokenType(StrEnum):
    ACCESS = "access"
    REFRESH = "refresh"


@dataclass(frozen=True, slots=True)
class TokenClaims:
    subject: UUID  # the user's uid
    session_id: UUID
    token_id: str  # jti
    token_type: TokenType
    issued_at: datetime
    expires_at: datetime


class TokenCodec(Protocol):
    def encode(self, claims: TokenClaims) -> str: ...

    def decode(self, token: str) -> TokenClaims:
        """Raises InvalidToken for anything but a well-formed, signed token valid now."""


class LinkPurpose(StrEnum):
    VERIFY_EMAIL = "verify-email"
    RESET_PASSWORD = "reset-password"  # noqa: S105 - a purpose name, not a secret


class LinkSigner(Protocol):
    def sign(self, purpose: LinkPurpose, payload: dict[str, Any]) -> str: ...

    def unsign(self, purpose: LinkPurpose, token: str, max_age_seconds: int) -> dict[str, Any]:
        """Raises InvalidLink when the token is bad, of another purpose or too old."""


class CursorSigner(Protocol):
    """Makes a page cursor's content opaque and tamper-evident."""

    def sign(self, content: dict[str, Any]) -> str: ...

    def unsign(self, token: str) -> dict[str, Any]:
        """Raises InvalidCursor for anything this signer did not make."""
