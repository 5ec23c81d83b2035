"""Page cursors signed with itsdangerous: compact JSON, base64url, HMAC-SHA256."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import orjson
from itsdangerous import BadSignature, Signer

from domain.errors import InvalidCursor

MAX_CURSOR_LENGTH = 1024


class ItsdangerousCursorSigner:
    """`CursorSigner`: a salt of its own, so a link token is no cursor and a cursor no
    link token. Cursors do not expire: a position in a list stays meaningful. The JSON is
    not compressed: a cursor is small, and one is signed for every page served."""

    def __init__(self, secret_key: str) -> None:
        if not secret_key:
            raise ValueError("secret_key is empty")
        # The salted key is derived here once (itsdangerous would derive it at every
        # signature, and a cursor is signed for every page served).
        key = Signer(
            secret_key, salt="bookly.page-cursor", digest_method=hashlib.sha256
        ).derive_key()
        self._signer = Signer(key, key_derivation="none", digest_method=hashlib.sha256)

    def sign(self, content: dict[str, Any]) -> str:
        payload = base64.urlsafe_b64encode(orjson.dumps(content)).rstrip(b"=")
        return self._signer.sign(payload).decode("ascii")

    def unsign(self, token: str) -> dict[str, Any]:
        if not isinstance(token, str) or not token or len(token) > MAX_CURSOR_LENGTH:
            raise InvalidCursor()
        try:
            payload = self._signer.unsign(token.encode("ascii"))
            content = orjson.loads(base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4)))
        except (BadSignature, ValueError, UnicodeError) as error:
            raise InvalidCursor() from error
        if not isinstance(content, dict):
            raise InvalidCursor()
        return content
