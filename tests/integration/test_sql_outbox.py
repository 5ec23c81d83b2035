"""The outbox in SQL (SQLite and PostgreSQL): jobs committed with their unit of work, the
relay's claims, attempts and their leases, and no job claimed twice by concurrent relays."""

from __future__ import annotations

import asyncio
import functools
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from sqlalchemy import func, select

from adapters.sqlalchemy.outbox import SqlOutboxStore
from adapters.sqlalchemy.tables import outbox_jobs
from adapters.sqlalchemy.unit_of_work import SqlUnitOfWork
from application.ports.outbox import JobStatus
from tests.fakes.clock import FixedClock
from tests.integration.sql_fixtures import make_user


def clock_now() -> FixedClock:
    return FixedClock(datetime.now(UTC) + timedelta(seconds=1))


async def add_jobs(sql_sessions, count: int, request_id: str | None = None) -> None:
    async with SqlUnitOfWork(sql_sessions, lambda: request_id) as uow:
        for n in range(count):
            await uow.outbox.add("bookly.send_email", {"n": n, "to": "a@example.com"})
        await uow.commit()


async def count_jobs(sql_sessions) -> int:
    async with sql_sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(outbox_jobs)))


async def test_jobs_commit_and_roll_back_with_their_unit_of_work(sql_sessions):
    uow_factory = functools.partial(SqlUnitOfWork, sql_sessions, request_id=lambda: "req-1")
    async with uow_factory() as uow:
        await uow.users.add(make_user())
        await uow.outbox.add("bookly.send_email", {"to": "a@example.com"})
        # no commit: both go
    assert await count_jobs(sql_sessions) == 0
    async with uow_factory() as uow:
        await uow.users.add(make_user())
        await uow.outbox.add("bookly.send_email", {"to": "a@example.com", "context": {"x": 1}})
        await uow.commit()
    (job,) = await SqlOutboxStore(sql_sessions, clock_now()).claim_due(10, 60)
    assert (job.status, job.attempts, job.request_id) == (JobStatus.DISPATCHED, 0, "req-1")
    assert job.payload == {"to": "a@example.com", "context": {"x": 1}}


async def test_a_job_goes_from_pending_to_sent(sql_sessions):
    clock = clock_now()
    store = SqlOutboxStore(sql_sessions, clock)
    await add_jobs(sql_sessions, 1)
    (job,) = await store.claim_due(10, 60)
    assert await store.claim_due(10, 60) == []
    await store.release([job.id], 5)
    assert (await store.get(job.id)).status is JobStatus.PENDING
    assert await store.claim_due(10, 60) == []
    clock.advance(5)
    (job,) = await store.claim_due(10, 60)

    attempt = await store.start_attempt(job.id, 30)
    assert (attempt.status, attempt.attempts) == (JobStatus.SENDING, 1)
    assert await store.start_attempt(job.id, 30) is None  # held by the live attempt
    await store.retry_later(job.id, "421 busy", 10)
    job = await store.get(job.id)
    assert (job.status, job.last_error) == (JobStatus.PENDING, "421 busy")
    clock.advance(10)
    (job,) = await store.claim_due(10, 60)
    await store.start_attempt(job.id, 30)
    await store.mark_sent(job.id)
    job = await store.get(job.id)
    assert (job.status, job.attempts, job.finished_at) == (JobStatus.SENT, 2, clock.now())
    assert await store.start_attempt(job.id, 30) is None
    await store.mark_failed(job.id, "too late")  # a finished job stays as it is
    assert (await store.get(job.id)).status is JobStatus.SENT


async def test_leases_and_lost_dispatches_make_jobs_due_again(sql_sessions):
    clock = clock_now()
    store = SqlOutboxStore(sql_sessions, clock)
    await add_jobs(sql_sessions, 2)
    first, second = await store.claim_due(10, 600)
    await store.start_attempt(first.id, 30)  # its worker dies; second's message is lost
    clock.advance(31)
    assert [j.id for j in await store.claim_due(10, 600)] == [first.id]
    assert (await store.start_attempt(first.id, 3600)).attempts == 2
    clock.advance(600)
    assert [j.id for j in await store.claim_due(10, 600)] == [second.id]


async def test_failed_jobs_keep_their_error_and_finished_ones_are_purged(sql_sessions):
    clock = clock_now()
    store = SqlOutboxStore(sql_sessions, clock)
    await add_jobs(sql_sessions, 3)
    jobs = await store.claim_due(10, 60)
    for job in jobs:
        await store.start_attempt(job.id, 30)
    await store.mark_failed(jobs[0].id, "550 no such mailbox")
    await store.mark_sent(jobs[1].id)
    assert (await store.get(jobs[0].id)).last_error == "550 no such mailbox"
    assert await store.purge_finished(clock.now(), 10) == 0
    clock.advance(1)
    assert await store.purge_finished(clock.now(), 10) == 2
    assert await count_jobs(sql_sessions) == 1
    assert await store.get(uuid4()) is None


async def test_concurrent_relays_never_claim_the_same_job(sql_sessions):
    await add_jobs(sql_sessions, 60)
    stores = [SqlOutboxStore(sql_sessions, clock_now()) for _ in range(4)]

    async def claim_all(store):
        mine = []
        while batch := await store.claim_due(5, 600):
            mine += [job.id for job in batch]
        return mine

    claimed = [job for batch in await asyncio.gather(*map(claim_all, stores)) for job in batch]
    assert len(claimed) == len(set(claimed)) == 60


async def test_concurrent_attempts_on_one_job_let_exactly_one_in(sql_sessions):
    store = SqlOutboxStore(sql_sessions, clock_now())
    await add_jobs(sql_sessions, 1)
    (job,) = await store.claim_due(1, 600)
    started = await asyncio.gather(*[store.start_attempt(job.id, 30) for _ in range(8)])
    assert len([s for s in started if s is not None]) == 1
    assert (await store.get(job.id)).attempts == 1
