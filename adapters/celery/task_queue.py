"""`TaskQueue` on Celery: tasks are sent by name, so this adapter knows no task code."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from celery import Celery

from adapters.tracing import handing_over


class CeleryTaskQueue:
    def __init__(self, app: Celery, timeout: float = 2.0) -> None:
        self._app = app
        self._timeout = timeout

    async def enqueue(
        self,
        task_name: str,
        payload: Mapping[str, Any],
        task_id: str | None = None,
        trace_context: Mapping[str, str] | None = None,
    ) -> None:
        """Publish in a thread (kombu blocks); raises when the broker cannot take it.
        Celery's instrumentation, where tracing is on, carries the trace in the message's
        headers (`traceparent`) to the worker's run of the task."""
        with handing_over(task_name, task_id, trace_context):
            await asyncio.to_thread(
                self._app.send_task, task_name, kwargs=dict(payload), task_id=task_id
            )

    async def drain(self) -> None:
        return None  # the workers run the tasks, not this process

    async def ping(self) -> None:
        """Raises unless the broker accepts a connection."""
        await asyncio.wait_for(asyncio.to_thread(self._ping), self._timeout)

    def _ping(self) -> None:
        with self._app.connection_for_write() as connection:
            connection.ensure_connection(
                max_retries=1,
                interval_start=0,
                interval_step=0.1,  # type: ignore[arg-type]  # kombu takes float seconds; stub: int
                timeout=self._timeout,  # type: ignore[arg-type]  # as above
            )

    async def aclose(self) -> None:
        self._app.close()
