"""The outbox in memory: jobs staged by a unit of work, and the relay's view of them."""

from __future__ import annotations

import copy
import dataclasses
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from application.ports.clock import Clock
from application.ports.outbox import FINISHED, JobStatus, OutboxJob
from tests.fakes.rows import StagedRows

OUTBOX_TABLE = "outbox_jobs"


class _Tables(Protocol):
    tables: dict[str, dict[Any, Any]]


def no_request_id() -> str | None:
    return None


class MemoryOutboxRepository:
    def __init__(
        self,
        rows: StagedRows[UUID, OutboxJob],
        clock: Clock,
        request_id: Callable[[], str | None] = no_request_id,
    ) -> None:
        self._rows, self._clock, self._request_id = rows, clock, request_id

    async def add(self, task_name: str, payload: Mapping[str, Any]) -> None:
        now = self._clock.now()
        job = OutboxJob(
            uuid.uuid4(),
            task_name,
            copy.deepcopy(dict(payload)),
            self._request_id(),
            JobStatus.PENDING,
            0,
            None,
            now,
            now,
        )
        self._rows.put(job.id, job)


class MemoryOutboxStore:
    """`OutboxStore` over a memory database's committed `outbox_jobs`. No method awaits
    anything, so each runs to completion without interleaving, like a transaction."""

    def __init__(self, database: _Tables, clock: Clock) -> None:
        self._database, self._clock = database, clock

    @property
    def _jobs(self) -> dict[UUID, OutboxJob]:
        return self._database.tables[OUTBOX_TABLE]

    def _change(self, job: OutboxJob, **fields: Any) -> OutboxJob:
        changed = dataclasses.replace(job, **fields)
        self._jobs[job.id] = changed
        return changed

    def _after(self, seconds: float) -> datetime:
        return self._clock.now() + timedelta(seconds=seconds)

    async def claim_due(self, limit: int, redispatch_after_seconds: float) -> list[OutboxJob]:
        now = self._clock.now()
        due = sorted(
            (j for j in self._jobs.values() if j.status not in FINISHED and j.available_at <= now),
            key=lambda j: (j.available_at, j.created_at),
        )[:limit]
        return [
            self._change(
                j,
                status=JobStatus.DISPATCHED,
                dispatched_at=now,
                available_at=self._after(redispatch_after_seconds),
            )
            for j in due
        ]

    async def release(self, job_ids: list[UUID], delay_seconds: float) -> None:
        for job_id in job_ids:
            job = self._jobs.get(job_id)
            if job is not None and job.status is JobStatus.DISPATCHED:
                self._change(job, status=JobStatus.PENDING, available_at=self._after(delay_seconds))

    async def start_attempt(self, job_id: UUID, lease_seconds: float) -> OutboxJob | None:
        job = self._jobs.get(job_id)
        now = self._clock.now()
        if job is None or not (
            job.status is JobStatus.DISPATCHED
            or (job.status is JobStatus.SENDING and job.available_at <= now)
        ):
            return None
        return self._change(
            job,
            status=JobStatus.SENDING,
            attempts=job.attempts + 1,
            available_at=self._after(lease_seconds),
        )

    async def get(self, job_id: UUID) -> OutboxJob | None:
        return self._jobs.get(job_id)

    async def mark_sent(self, job_id: UUID) -> None:
        job = self._jobs.get(job_id)
        if job is not None and job.status not in FINISHED:
            self._change(job, status=JobStatus.SENT, finished_at=self._clock.now())

    async def retry_later(self, job_id: UUID, error: str, delay_seconds: float) -> None:
        job = self._jobs.get(job_id)
        if job is not None and job.status is JobStatus.SENDING:
            self._change(
                job,
                status=JobStatus.PENDING,
                last_error=error,
                available_at=self._after(delay_seconds),
            )

    async def mark_failed(self, job_id: UUID, error: str) -> None:
        job = self._jobs.get(job_id)
        if job is not None and job.status not in FINISHED:
            self._change(
                job, status=JobStatus.FAILED, last_error=error, finished_at=self._clock.now()
            )

    async def discard(self, job_id: UUID) -> None:
        job = self._jobs.get(job_id)
        if job is not None and job.status not in FINISHED:
            del self._jobs[job_id]

    async def purge_finished(self, older_than: datetime, limit: int) -> int:
        old = [
            j.id
            for j in self._jobs.values()
            if j.finished_at is not None and j.finished_at < older_than
        ][:limit]
        for job_id in old:
            del self._jobs[job_id]
        return len(old)
