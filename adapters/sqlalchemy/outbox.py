"""The outbox in the `outbox_jobs` table: written inside a unit of work, relayed and
reported on in short transactions of their own."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Row, and_, delete, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.sqlalchemy.tables import OUTBOX_UNFINISHED, outbox_jobs
from application.ports.clock import Clock
from application.ports.outbox import JobStatus, OutboxJob

jobs = outbox_jobs.c


def no_request_id() -> str | None:
    return None


def no_trace_context() -> Mapping[str, str] | None:
    return None


class SqlOutboxRepository:
    """Jobs inserted in the unit of work's own transaction, each with the request id and
    the trace context of what wrote it (both told by the callables given)."""

    def __init__(
        self,
        session: AsyncSession,
        request_id: Callable[[], str | None] = no_request_id,
        trace_context: Callable[[], Mapping[str, str] | None] = no_trace_context,
    ) -> None:
        self._session, self._request_id = session, request_id
        self._trace_context = trace_context

    async def add(self, task_name: str, payload: Mapping[str, Any]) -> None:
        now = datetime.now(UTC)
        await self._session.execute(
            insert(outbox_jobs).values(
                id=uuid.uuid4(),
                task_name=task_name,
                payload=dict(payload),
                request_id=self._request_id(),
                trace_context=self._trace_context(),
                status=JobStatus.PENDING,
                attempts=0,
                created_at=now,
                available_at=now,
            )
        )


def _job(row: Row[Any]) -> OutboxJob:
    return OutboxJob(
        id=row.id,
        task_name=row.task_name,
        payload=row.payload,
        request_id=row.request_id,
        status=JobStatus(row.status),
        attempts=row.attempts,
        last_error=row.last_error,
        created_at=row.created_at,
        available_at=row.available_at,
        dispatched_at=row.dispatched_at,
        finished_at=row.finished_at,
        trace_context=row.trace_context,
    )


_NOT_FINISHED = jobs.status.not_in([JobStatus.SENT, JobStatus.FAILED])


class SqlOutboxStore:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._session_factory, self._clock = session_factory, clock

    def _after(self, seconds: float) -> datetime:
        return self._clock.now() + timedelta(seconds=seconds)

    async def _change(self, where: ColumnElement[bool], **values: Any) -> list[OutboxJob]:
        async with self._session_factory.begin() as session:
            result = await session.execute(
                update(outbox_jobs).where(where).values(**values).returning(*outbox_jobs.c)
            )
            return [_job(row) for row in result]

    async def claim_due(self, limit: int, redispatch_after_seconds: float) -> list[OutboxJob]:
        now = self._clock.now()
        # The predicate is spelled as in the partial index, so PostgreSQL can use it; rows
        # another relay has locked are skipped, never waited for.
        due = (
            select(jobs.id)
            .where(text(OUTBOX_UNFINISHED), jobs.available_at <= now)
            .order_by(jobs.available_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claimed = await self._change(
            jobs.id.in_(due),
            status=JobStatus.DISPATCHED,
            dispatched_at=now,
            available_at=now + timedelta(seconds=redispatch_after_seconds),
        )
        return sorted(claimed, key=lambda job: (job.created_at, str(job.id)))

    async def release(self, job_ids: list[UUID], delay_seconds: float) -> None:
        if job_ids:
            await self._change(
                and_(jobs.id.in_(job_ids), jobs.status == JobStatus.DISPATCHED),
                status=JobStatus.PENDING,
                available_at=self._after(delay_seconds),
            )

    async def start_attempt(self, job_id: UUID, lease_seconds: float) -> OutboxJob | None:
        now = self._clock.now()
        free = or_(
            jobs.status == JobStatus.DISPATCHED,
            and_(jobs.status == JobStatus.SENDING, jobs.available_at <= now),
        )
        started = await self._change(
            and_(jobs.id == job_id, free),
            status=JobStatus.SENDING,
            attempts=jobs.attempts + 1,
            available_at=now + timedelta(seconds=lease_seconds),
        )
        return started[0] if started else None

    async def get(self, job_id: UUID) -> OutboxJob | None:
        async with self._session_factory() as session:
            row = (await session.execute(select(outbox_jobs).where(jobs.id == job_id))).first()
        return None if row is None else _job(row)

    async def mark_sent(self, job_id: UUID) -> None:
        await self._change(
            and_(jobs.id == job_id, _NOT_FINISHED),
            status=JobStatus.SENT,
            finished_at=self._clock.now(),
        )

    async def retry_later(self, job_id: UUID, error: str, delay_seconds: float) -> None:
        await self._change(
            and_(jobs.id == job_id, jobs.status == JobStatus.SENDING),
            status=JobStatus.PENDING,
            last_error=error,
            available_at=self._after(delay_seconds),
        )

    async def mark_failed(self, job_id: UUID, error: str) -> None:
        await self._change(
            and_(jobs.id == job_id, _NOT_FINISHED),
            status=JobStatus.FAILED,
            last_error=error,
            finished_at=self._clock.now(),
        )

    async def discard(self, job_id: UUID) -> None:
        async with self._session_factory.begin() as session:
            await session.execute(delete(outbox_jobs).where(jobs.id == job_id, _NOT_FINISHED))

    async def purge_finished(self, older_than: datetime, limit: int) -> int:
        old = (
            select(jobs.id)
            .where(jobs.finished_at < older_than)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        async with self._session_factory.begin() as session:
            result = await session.execute(delete(outbox_jobs).where(jobs.id.in_(old)))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
