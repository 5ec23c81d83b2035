"""How often, and how far apart, a job is tried."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter, and a bound on the number of attempts.

    The n-th retry waits between half and all of `base * 2**(n-1)`, capped at `cap`
    ("equal jitter"): never sooner than half the step, so a struggling server gets
    breathing room, and spread out, so failed jobs do not come back in a herd.
    """

    max_attempts: int = 8
    base_seconds: float = 10.0
    cap_seconds: float = 600.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base_seconds < 0 or self.cap_seconds < self.base_seconds:
            raise ValueError("need max_attempts >= 1 and 0 <= base_seconds <= cap_seconds")

    def gives_up_after(self, attempts: int) -> bool:
        return attempts >= self.max_attempts

    def delay(self, attempts: int, draw: float | None = None) -> float:
        """Seconds to wait after the `attempts`-th failed attempt; `draw` in [0, 1)."""
        step = min(self.cap_seconds, self.base_seconds * 2.0 ** max(0, attempts - 1))
        fraction = random.random() if draw is None else draw  # noqa: S311 - jitter, not a secret
        return step / 2 + step / 2 * fraction

    def longest_wait(self) -> float:
        """The most all retries of one job can wait in total."""
        return sum(self.delay(n, 1.0) for n in range(1, self.max_attempts))
