"""Signed, expiring links (email verification, password reset) with itsdangerous."""

from __future__ import annotations

import hashlib
from typing import Any

from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer

from application.ports.clock import Clock
from application.ports.security import LinkPurpose
from domain.errors import InvalidLink

MAX_LINK_TOKEN_LENGTH = 2048


class _ClockSigner(TimestampSigner):
    """Takes its timestamps from the injected clock, so tests can move time."""

    def __init__(self, *args: Any, clock: Clock, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock.now().timestamp())


class ItsdangerousLinkSigner:
    """`LinkSigner`: one salt per purpose, so a token made for one purpose is useless
    for another; HMAC-SHA256; `unsign` always checks the age."""

    def __init__(self, secret_key: str, clock: Clock) -> None:
        if not secret_key:
            raise ValueError("secret_key is empty")
        self._serializers = {
            purpose: URLSafeTimedSerializer(
                secret_key,
                salt=f"bookly.link.{purpose.value}",
                signer=_ClockSigner,
                signer_kwargs={"clock": clock, "digest_method": hashlib.sha256},
            )
            for purpose in LinkPurpose
        }

    def sign(self, purpose: LinkPurpose, payload: dict[str, Any]) -> str:
        return self._serializers[purpose].dumps(payload)

    def unsign(self, purpose: LinkPurpose, token: str, max_age_seconds: int) -> dict[str, Any]:
        """Raises InvalidLink when the token is bad, of another purpose or too old."""
        if not isinstance(token, str) or not token or len(token) > MAX_LINK_TOKEN_LENGTH:
            raise InvalidLink()
        try:
            payload = self._serializers[purpose].loads(token, max_age=max_age_seconds)
        except (BadData, ValueError, TypeError, UnicodeError) as error:
            raise InvalidLink() from error
        if not isinstance(payload, dict):
            raise InvalidLink()
        return payload
