"""Background work inside the API process: the embedded default's task queue."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from adapters.tracing import handing_over, running

Handler = Callable[[Mapping[str, Any]], Awaitable[object]]
logger = logging.getLogger(__name__)


class InProcessTaskQueue:
    """Runs each job as an asyncio task, so whoever hands it over need not wait.

    The embedded default's queue: the outbox relay of this process feeds it, so jobs
    outlive a restart in the outbox, not here. Failures are logged, not raised.
    `drain()` waits for what is running (used by tests; `aclose()` at shutdown).
    """

    def __init__(self, handlers: Mapping[str, Handler] | None = None) -> None:
        self._handlers: dict[str, Handler] = dict(handlers or {})
        self._running: set[asyncio.Task[None]] = set()

    def register(self, task_name: str, handler: Handler) -> None:
        self._handlers[task_name] = handler

    async def enqueue(
        self,
        task_name: str,
        payload: Mapping[str, Any],
        task_id: str | None = None,
        trace_context: Mapping[str, str] | None = None,
    ) -> None:
        handler = self._handlers[task_name]
        with handing_over(task_name, task_id, trace_context):  # the task starts in its trace
            task = asyncio.create_task(
                self._run(task_name, task_id, handler, dict(payload)),
                name=f"{task_name}:{task_id}" if task_id else task_name,
            )
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def drain(self) -> None:
        while self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)

    async def aclose(self) -> None:
        await self.drain()

    @staticmethod
    async def _run(
        task_name: str, task_id: str | None, handler: Handler, payload: dict[str, Any]
    ) -> None:
        with running(task_name, task_id):
            try:
                await handler(payload)
            except Exception:
                logger.exception("background task %s failed", task_name)
