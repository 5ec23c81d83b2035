"""A task queue that only records what it is given: the unit tests' double."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class RecordingTaskQueue:
    """Keeps every job it is given; runs nothing. Set `failure` to refuse jobs (a broker
    that is down). For unit tests."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, dict[str, Any]]] = []
        self.task_ids: list[str | None] = []
        self.trace_contexts: list[Mapping[str, str] | None] = []
        self.failure: Exception | None = None

    async def enqueue(
        self,
        task_name: str,
        payload: Mapping[str, Any],
        task_id: str | None = None,
        trace_context: Mapping[str, str] | None = None,
    ) -> None:
        if self.failure is not None:
            raise self.failure
        self.jobs.append((task_name, dict(payload)))
        self.task_ids.append(task_id)
        self.trace_contexts.append(trace_context)

    async def drain(self) -> None:
        return None

    def named(self, task_name: str) -> list[dict[str, Any]]:
        return [payload for name, payload in self.jobs if name == task_name]
