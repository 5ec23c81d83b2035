"""Fast, transparent doubles of the security ports, for unit tests (no crypto)."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from application.ports.clock import Clock
from application.ports.security import LinkPurpose, TokenClaims
from domain.errors import InvalidLink, InvalidToken


class PlainPasswordHasher:
    """Stores `plain$<password>`; `version` mimics a change of hashing parameters."""

    def __init__(self, version: int = 1) -> None:
        self.version = version
        self.dummy_checks = 0

    async def hash(self, password: str) -> str:
        return f"plain{self.version}${password}"

    async def verify(self, password_hash: str, password: str) -> bool:
        _, sep, stored = password_hash.partition("$")
        return bool(sep) and secrets.compare_digest(stored.encode(), password.encode())

    async def verify_dummy(self, password: str) -> None:
        self.dummy_checks += 1

    def needs_rehash(self, password_hash: str) -> bool:
        return not password_hash.startswith(f"plain{self.version}$")


class SmallCommonPasswords:
    def __init__(
        self, words: frozenset[str] = frozenset({"password", "password1", "12345678", "qwertyuiop"})
    ) -> None:
        self._words = words

    def is_common(self, password: str) -> bool:
        return password.lower() in self._words


class MemoryTokenCodec:
    """Opaque random tokens that stand for claims kept in a dict; expiry by the clock."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._claims: dict[str, TokenClaims] = {}

    def encode(self, claims: TokenClaims) -> str:
        token = secrets.token_urlsafe(24)
        self._claims[token] = claims
        return token

    def decode(self, token: str) -> TokenClaims:
        claims = self._claims.get(token)
        if claims is None or claims.expires_at <= self._clock.now():
            raise InvalidToken()
        return claims


class MemoryLinkSigner:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._links: dict[str, tuple[LinkPurpose, dict[str, Any], Any]] = {}

    def sign(self, purpose: LinkPurpose, payload: dict[str, Any]) -> str:
        token = secrets.token_urlsafe(24)
        self._links[token] = (purpose, dict(payload), self._clock.now())
        return token

    def unsign(self, purpose: LinkPurpose, token: str, max_age_seconds: int) -> dict[str, Any]:
        found = self._links.get(token)
        if found is None or found[0] is not purpose:
            raise InvalidLink()
        if self._clock.now() - found[2] > timedelta(seconds=max_age_seconds):
            raise InvalidLink()
        return dict(found[1])
