"""Background work inside the API process: the embedded default, and the tests' double."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

Handler = Callable[[Mapping[str, Any]], Awaitable[object]]
logger = logging.getLogger(__name__)


class RecordingTaskQueue:
    """Keeps every job it is given; runs nothing. Set `failure` to refuse jobs (a broker
    that is down). For unit tests."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, dict[str, Any]]] = []
        self.task_ids: list[str | None] = []
        self.failure: Exception | None = None

    async def enqueue(
        self, task_name: str, payload: Mapping[str, Any], task_id: str | None = None
    ) -> None:
        if self.failure is not None:
            raise self.failure
        self.jobs.append((task_name, dict(payload)))
        self.task_ids.append(task_id)

    async def drain(self) -> None:
        return None

    def named(self, task_name: str) -> list[dict[str, Any]]:
        return [payload for name, payload in self.jobs if name == task_name]


class InProcessTaskQueue:
    """Runs each job as an asyncio task, so whoever hands it over need not wait.

    The embedded default's queue: the outbox relay of this process feeds it, so jobs
    outlive a restart in the outbox, not here. Failures are logged, not raised.
    `drain()` waits for what is running (used at shutdown and by tests).
    """

    def __init__(self, handlers: Mapping[str, Handler] | None = None) -> None:
        self._handlers: dict[str, Handler] = dict(handlers or {})
        self._running: set[asyncio.Task[None]] = set()

    def register(self, task_name: str, handler: Handler) -> None:
        self._handlers[task_name] = handler

    async def enqueue(
        self, task_name: str, payload: Mapping[str, Any], task_id: str | None = None
    ) -> None:
        handler = self._handlers[task_name]
        task = asyncio.create_task(
            self._run(task_name, handler, dict(payload)),
            name=f"{task_name}:{task_id}" if task_id else task_name,
        )
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
