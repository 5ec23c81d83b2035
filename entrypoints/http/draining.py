"""Rolling restarts: on SIGTERM, stop being ready before stopping serving.

A load balancer learns from /ready that a process is going away only when it next asks.
With `BOOKLY_SHUTDOWN_DELAY_SECONDS` set, the first SIGTERM marks the process draining
(/ready answers 503 at once) and only after the delay hands the signal on to uvicorn,
which then stops accepting, lets requests in flight finish (up to
`BOOKLY_SHUTDOWN_GRACE_SECONDS`) and runs the lifespan's shutdown, which flushes the
relay, the listener and the pools.

uvicorn listens for SIGTERM with `signal.signal` from before the lifespan starts (its
`Server.capture_signals`); the handler installed here runs instead and chains to the one
it replaced. tests/api/test_rolling_restart_api.py fails if uvicorn stops working so.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from types import FrameType
from typing import Any


class Drain:
    """Whether this process is going away; `arm` makes SIGTERM start it."""

    def __init__(self, delay_seconds: float) -> None:
        self.delay_seconds = delay_seconds
        self.draining = False
        self._previous: Any = None

    def arm(self) -> None:
        """Call inside the running event loop, on the main thread (the lifespan's start)."""
        if not self.delay_seconds or threading.current_thread() is not threading.main_thread():
            return
        loop = asyncio.get_running_loop()
        self._previous = signal.getsignal(signal.SIGTERM)

        def on_sigterm(signum: int, frame: FrameType | None) -> None:
            if self.draining:  # a second SIGTERM: no more waiting
                self._hand_on(signum, frame)
                return
            self.draining = True
            loop.call_soon_threadsafe(
                loop.call_later, self.delay_seconds, self._hand_on, signum, None
            )

        signal.signal(signal.SIGTERM, on_sigterm)

    def _hand_on(self, signum: int, frame: FrameType | None) -> None:
        previous = self._previous
        if callable(previous):
            previous(signum, frame)
        elif previous == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.raise_signal(signal.SIGTERM)
