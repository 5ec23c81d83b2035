"""Page cursors signed with itsdangerous: compact JSON, URL-safe, HMAC-SHA256."""

from __future__ import annotations

import hashlib
from typing import Any

from itsdangerous import BadData, URLSafeSerializer

from domain.errors import InvalidCursor

MAX_CURSOR_LENGTH = 1024


class ItsdangerousCursorSigner:
    """`CursorSigner`: a salt of its own, so a link token is no cursor and a cursor no
    link token. Cursors do not expire: a position in a list stays meaningful."""

    def __init__(self, secret_key: str) -> None:
        if not secret_key:
            raise ValueError("secret_key is empty")
        self._serializer = URLSafeSerializer(
            secret_key, salt="bookly.page-cursor",
            signer_kwargs={"digest_method": hashlib.sha256})

    def sign(self, content: dict[str, Any]) -> str:
        return self._serializer.dumps(content)

    def unsign(self, token: str) -> dict[str, Any]:
        if not isinstance(token, str) or not token or len(token) > MAX_CURSOR_LENGTH:
            raise InvalidCursor()
        try:
            content = self._serializer.loads(token)
        except (BadData, ValueError, TypeError, UnicodeError) as error:
            raise InvalidCursor() from error
        if not isinstance(content, dict):
            raise InvalidCursor()
        return content
