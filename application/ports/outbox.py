"""The transactional outbox: background jobs stored with the change that causes them.

A use case writes a job through `UnitOfWork.outbox` in its own transaction, so the job
exists exactly when the change does. A relay later hands due jobs to the `TaskQueue`,
and whatever runs a job reports back through `OutboxStore`.

Life of a job (`available_at` says when the relay may next hand it over):

    pending ──relay──▶ dispatched ──attempt──▶ sending ──▶ sent
       ▲                   │  ▲                   │ └────▶ failed (permanent, or out of tries)
       └── transient error ┴──┴── lease over ─────┘

A dispatched job not started by `available_at` (the broker lost it) and a sending job
whose lease ran out (its worker died) are handed over again. Every attempt is counted,
so the number of tries stays bounded whatever happens to workers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol
from uuid import UUID


class JobStatus(StrEnum):
    PENDING = "pending"  # waiting for the relay (new, or a retry not yet due)
    DISPATCHED = "dispatched"  # handed to the task queue
    SENDING = "sending"  # an attempt runs; `available_at` is the end of its lease
    SENT = "sent"
    FAILED = "failed"


FINISHED = frozenset({JobStatus.SENT, JobStatus.FAILED})


@dataclass(frozen=True, slots=True)
class OutboxJob:
    id: UUID  # also the job's idempotency key and its task id on the queue
    task_name: str
    payload: Mapping[str, Any]
    request_id: str | None  # of the request that caused the job, for the logs
    status: JobStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    available_at: datetime
    dispatched_at: datetime | None = None
    finished_at: datetime | None = None
    # The W3C trace context (`traceparent`, `tracestate`) of the request that caused the
    # job, opaque here: whoever runs the job continues that trace. None when not traced.
    trace_context: Mapping[str, str] | None = None


class OutboxRepository(Protocol):
    """The unit of work's side: jobs written in the same transaction as the change."""

    async def add(self, task_name: str, payload: Mapping[str, Any]) -> None:
        """Stage a job (plain JSON data); it exists once the unit of work commits."""


class OutboxStore(Protocol):
    """The relay's and the job runners' side; each method is a short transaction."""

    async def claim_due(self, limit: int, redispatch_after_seconds: float) -> list[OutboxJob]:
        """Mark up to `limit` due jobs dispatched (oldest first) and return them.

        A claimed job is not due again for `redispatch_after_seconds`. Concurrent
        relays never claim the same job (rows locked by another are skipped).
        """

    async def release(self, job_ids: list[UUID], delay_seconds: float) -> None:
        """Undo a claim whose hand-over failed: pending again after `delay_seconds`."""

    async def start_attempt(self, job_id: UUID, lease_seconds: float) -> OutboxJob | None:
        """Count one attempt and hold the job for `lease_seconds`; None when the job is
        unknown, finished, not dispatched, or held by a live attempt elsewhere."""

    async def get(self, job_id: UUID) -> OutboxJob | None: ...

    async def mark_sent(self, job_id: UUID) -> None: ...

    async def retry_later(self, job_id: UUID, error: str, delay_seconds: float) -> None:
        """Back to pending, due after `delay_seconds`, if the attempt still holds it."""

    async def mark_failed(self, job_id: UUID, error: str) -> None: ...

    async def discard(self, job_id: UUID) -> None:
        """Delete an unfinished job that turned out to have nothing to do (no record of
        it is kept: it may name an address that belongs to nobody)."""

    async def purge_finished(self, older_than: datetime, limit: int) -> int:
        """Delete at most `limit` jobs finished before `older_than`; how many went."""
