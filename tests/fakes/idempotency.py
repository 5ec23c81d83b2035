"""The idempotency store in memory, for unit tests and the contract suite."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from application.ports.clock import Clock
from application.ports.idempotency import Claim, Reservation, StoredAnswer


@dataclass
class _Entry:
    fingerprint: str
    until: datetime  # the lease while running, the answer's expiry when done
    answer: StoredAnswer | None = None


class MemoryIdempotencyStore:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._entries: dict[str, _Entry] = {}

    async def reserve(self, key: str, fingerprint: str, lease_seconds: float) -> Reservation:
        now = self._clock.now()
        entry = self._entries.get(key)
        if entry is None or entry.until <= now:
            self._entries[key] = _Entry(fingerprint, now + timedelta(seconds=lease_seconds))
            return Reservation(Claim.OWNED)
        if entry.fingerprint != fingerprint:
            return Reservation(Claim.REUSED)
        if entry.answer is None:
            return Reservation(Claim.RUNNING)
        return Reservation(Claim.DONE, entry.answer)

    async def complete(
        self, key: str, fingerprint: str, answer: StoredAnswer, ttl_seconds: float
    ) -> None:
        entry = self._entries.get(key)
        if entry is not None and entry.fingerprint == fingerprint and entry.answer is None:
            entry.answer = answer
            entry.until = self._clock.now() + timedelta(seconds=ttl_seconds)

    async def release(self, key: str, fingerprint: str) -> None:
        entry = self._entries.get(key)
        if entry is not None and entry.fingerprint == fingerprint and entry.answer is None:
            del self._entries[key]
