"""Counting attempts in a window: failed logins per account, requests per client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class LimitState:
    count: int  # attempts counted in the current window
    retry_after_seconds: int  # until the window ends (0 when nothing is counted)


class RateLimiter(Protocol):
    async def peek(self, key: str, window_seconds: int) -> LimitState: ...

    async def hit(self, key: str, window_seconds: int) -> LimitState:
        """Count one attempt atomically and return the state after it."""

    async def reset(self, key: str) -> None: ...
