"""Read-your-writes with replicas (`adapters/sqlalchemy/replicas.py` has the promise).

For a request with a Bearer token, its subject (the user) is read from the token without
checking the signature: a forged token can at most send its own public reads to the
primary, and the routes check the token as before.

- After a request that may write (not GET, HEAD or OPTIONS) succeeds, and before its
  answer leaves, the primary's WAL position is kept as the user's (Redis).
- A reading request (GET, HEAD) runs with a floor: the user's kept position, and the
  moment its token was issued. Its catalogue reads go only to a replica known to have
  replayed that far and to have caught up with the primary as it was at that moment: a
  session's reads never go back before its log-in, nor before what its user did without
  a token before it (signing up, confirming the email).

If Redis cannot keep the position, the answer still goes out (the write is done) and the
miss is logged; if Redis cannot tell a reader's position, the reader reads on the primary.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Protocol

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger("bookly.replicas")
READING = frozenset({"GET", "HEAD"})
UNCHANGING = READING | {"OPTIONS"}
ON_PRIMARY = (1 << 64, float("inf"))  # a floor no replica reaches
# A token's `iat` is whole seconds, rounded down, from the issuing host's clock: the moment
# a session's reads must see is taken this much later.
ISSUED_MARGIN_SECONDS = 2.0


class WritePositions(Protocol):
    async def remember(self, user: str, position: int) -> None: ...
    async def floor(self, user: str) -> int: ...


class ReadYourWritesMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        positions: Callable[[], WritePositions],
        primary_position: Callable[[], Awaitable[int]],
        claimed: Callable[[str], tuple[str, int] | None],
        read_floor: ContextVar[tuple[int, float]],
    ) -> None:
        self.app = app
        self._positions = positions
        self._primary_position = primary_position
        self._claimed = claimed
        self._read_floor = read_floor

    def _claims(self, scope: Scope) -> tuple[str, int] | None:
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                return self._claimed(token.strip()) if scheme.lower() == "bearer" else None
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        claims = self._claims(scope) if scope["type"] == "http" else None
        if claims is None:
            await self.app(scope, receive, send)
            return
        user, issued_at = claims
        if scope["method"] in READING:
            reset = self._read_floor.set(await self._floor(user, issued_at))
            try:
                await self.app(scope, receive, send)
            finally:
                self._read_floor.reset(reset)
        elif scope["method"] in UNCHANGING:
            await self.app(scope, receive, send)
        else:

            async def remembering(message: Message) -> None:
                if message["type"] == "http.response.start" and message["status"] < 400:
                    await self._remember(user)
                await send(message)

            await self.app(scope, receive, remembering)

    async def _floor(self, user: str, issued_at: int) -> tuple[int, float]:
        try:
            return await self._positions().floor(user), issued_at + ISSUED_MARGIN_SECONDS
        except Exception as error:
            log.warning("read_floor_unknown", error=str(error))
            return ON_PRIMARY

    async def _remember(self, user: str) -> None:
        try:
            await self._positions().remember(user, await self._primary_position())
        except Exception as error:
            log.warning("write_position_not_kept", error=str(error))
