"""Where the first answer to an idempotent request is kept, for its retries."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


class Claim(Enum):
    OWNED = "owned"  # the caller runs the request, then `complete`s or `release`s it
    RUNNING = "running"  # the same request runs elsewhere now
    REUSED = "reused"  # the key was given with another request
    DONE = "done"  # answered before: replay `answer`


@dataclass(frozen=True, slots=True)
class Reservation:
    claim: Claim
    answer: StoredAnswer | None = None


class IdempotencyStore(Protocol):
    """Keys are the caller's (the entrypoint scopes them); `fingerprint` names the request
    (method, path, body). One `reserve` of a free key wins however many race for it."""

    async def reserve(self, key: str, fingerprint: str, lease_seconds: float) -> Reservation:
        """OWNED if the key was free (or its holder's lease ran out, or its answer expired);
        otherwise what the key holds."""

    async def complete(
        self, key: str, fingerprint: str, answer: StoredAnswer, ttl_seconds: float
    ) -> None:
        """Keeps the answer of an owned key for `ttl_seconds`."""

    async def release(self, key: str, fingerprint: str) -> None:
        """Frees an owned key without an answer (the request failed: a retry runs again)."""
