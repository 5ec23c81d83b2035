"""The relay: moves due outbox jobs to the task queue, patiently.

It never loses a job: a job is marked dispatched before it is handed over, and put back
(pending) when the hand-over fails, so a broker that is down only delays mail. A relay
that dies between the two leaves the job dispatched; it is due again after
`redispatch_after_seconds`. Handing a job over twice is harmless: attempts are claimed
one at a time (`OutboxStore.start_attempt`) and a sent job is never sent again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from application.ports.clock import Clock
from application.ports.messaging import TaskQueue
from application.ports.outbox import OutboxJob, OutboxStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RelayPolicy:
    poll_seconds: float = 1.0  # between looks at the outbox while all is well
    max_backoff_seconds: float = 10.0  # longest pause while the queue or database is down
    batch_size: int = 100
    redispatch_after_seconds: float = 900.0  # a dispatched job not started by then is lost
    retention_seconds: float = 14 * 86_400  # finished jobs are deleted after this
    purge_batch: int = 500


def task_payload(job: OutboxJob) -> dict[str, str | None]:
    """What travels on the queue: plain data, the job id and the request that caused it."""
    return {"job_id": str(job.id), "request_id": job.request_id}


class OutboxRelay:
    def __init__(
        self, store: OutboxStore, queue: TaskQueue, clock: Clock, policy: RelayPolicy
    ) -> None:
        self._store, self._queue, self._clock, self._policy = store, queue, clock, policy
        self._stop: asyncio.Event | None = None
        self._loop_task: asyncio.Task[None] | None = None

    async def relay_due(self) -> int:
        """Hand every job due now to the queue; how many. Raises if the queue refuses."""
        moved = 0
        while True:
            jobs = await self._store.claim_due(
                self._policy.batch_size, self._policy.redispatch_after_seconds
            )
            for index, job in enumerate(jobs):
                try:
                    await self._queue.enqueue(
                        job.task_name,
                        task_payload(job),
                        task_id=str(job.id),
                        trace_context=job.trace_context,
                    )
                except BaseException:
                    unsent = [j.id for j in jobs[index:]]
                    with contextlib.suppress(Exception):
                        await asyncio.shield(self._store.release(unsent, 0.0))
                    raise
                moved += 1
            if len(jobs) < self._policy.batch_size:
                return moved

    async def drain(self) -> None:
        """Relay and run until nothing is due and nothing runs here (shutdown, tests)."""
        while True:
            moved = await self.relay_due()
            await self._queue.drain()
            if not moved:
                return

    async def purge(self) -> int:
        older_than = self._clock.now() - timedelta(seconds=self._policy.retention_seconds)
        return await self._store.purge_finished(older_than, self._policy.purge_batch)

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until `stop` is set; a failure (queue or database down) is logged and
        tried again after a pause that doubles up to `max_backoff_seconds`."""
        pause = self._policy.poll_seconds
        failures = 0
        rounds = 0
        while not stop.is_set():
            try:
                await self.relay_due()
                if rounds % 600 == 0:
                    await self.purge()
                rounds += 1
            except Exception as error:
                failures += 1
                pause = min(self._policy.max_backoff_seconds, pause * 2)
                logger.warning(
                    "outbox relay failed (%s: %s); trying again in %.1fs",
                    type(error).__name__,
                    error,
                    pause,
                )
            else:
                if failures:
                    logger.info("outbox relay works again after %d failed rounds", failures)
                failures, pause = 0, self._policy.poll_seconds
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)

    def start(self) -> None:
        """Run the relay loop in the background of this event loop (idempotent)."""
        if self._loop_task is None or self._loop_task.done():
            self._stop = asyncio.Event()
            self._loop_task = asyncio.create_task(self.run(self._stop), name="outbox-relay")

    async def stop(self) -> None:
        if self._loop_task is None or self._stop is None:
            return
        self._stop.set()
        with contextlib.suppress(Exception):
            await self._loop_task
        self._loop_task = None
