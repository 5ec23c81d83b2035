"""Background work inside the API process: the embedded default, and the tests' double."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

Handler = Callable[[Mapping[str, Any]], Awaitable[None]]
logger = logging.getLogger(__name__)


class RecordingTaskQueue:
    """Keeps every job it is given; runs nothing. For unit tests."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, dict[str, Any]]] = []

    async def enqueue(self, task_name: str, payload: Mapping[str, Any]) -> None:
        self.jobs.append((task_name, dict(payload)))

    def named(self, task_name: str) -> list[dict[str, Any]]:
        return [payload for name, payload in self.jobs if name == task_name]


class InProcessTaskQueue:
    """Runs each job as an asyncio task, so the request that enqueued it need not wait.

    Failures are logged, not raised. `drain()` waits for what is running (used at
    shutdown and by tests).
    """

    def __init__(self, handlers: Mapping[str, Handler] | None = None) -> None:
        self._handlers: dict[str, Handler] = dict(handlers or {})
        self._running: set[asyncio.Task[None]] = set()

    def register(self, task_name: str, handler: Handler) -> None:
        self._handlers[task_name] = handler

    async def enqueue(self, task_name: str, payload: Mapping[str, Any]) -> None:
        handler = self._handlers[task_name]
        task = asyncio.create_task(self._run(task_name, handler, dict(payload)))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def drain(self) -> None:
        while self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)

    @staticmethod
    async def _run(task_name: str, handler: Handler, payload: dict[str, Any]) -> None:
        try:
            await handler(payload)
        except Exception:
            logger.exception("background task %s failed", task_name)
