"""Fixed-window attempt counters in a dict, timed by the injected clock.

The unit tests' double, and the embedded default's limiter (one process: each
worker process counts on its own). Lapsed windows are swept now and then, so the
dict stays as large as the set of keys counted within one window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from application.ports.clock import Clock
from application.ports.limits import LimitState

_SWEEP_FLOOR = 1024


@dataclass(slots=True)
class _Window:
    count: int
    ends_at: datetime


class MemoryRateLimiter:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._windows: dict[str, _Window] = {}
        self._sweep_at = _SWEEP_FLOOR

    def _current(self, key: str, now: datetime) -> _Window | None:
        window = self._windows.get(key)
        if window is not None and window.ends_at <= now:
            del self._windows[key]
            return None
        return window

    def _state(self, window: _Window | None, now: datetime) -> LimitState:
        if window is None:
            return LimitState(count=0, retry_after_seconds=0)
        left = (window.ends_at - now).total_seconds()
        return LimitState(count=window.count, retry_after_seconds=max(1, math.ceil(left)))

    def _sweep(self, now: datetime) -> None:
        if len(self._windows) < self._sweep_at:
            return
        self._windows = {k: w for k, w in self._windows.items() if w.ends_at > now}
        self._sweep_at = max(_SWEEP_FLOOR, 2 * len(self._windows))

    async def peek(self, key: str, window_seconds: int) -> LimitState:
        now = self._clock.now()
        return self._state(self._current(key, now), now)

    async def hit(self, key: str, window_seconds: int) -> LimitState:
        now = self._clock.now()
        self._sweep(now)
        window = self._current(key, now)
        if window is None:
            window = _Window(0, now + timedelta(seconds=window_seconds))
            self._windows[key] = window
        window.count += 1
        return self._state(window, now)

    async def reset(self, key: str) -> None:
        self._windows.pop(key, None)
