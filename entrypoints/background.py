"""Running outbox jobs: the log lines every runner writes, and the embedded default's
handler (the Celery worker has its own task wrapper in `entrypoints/worker`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from uuid import UUID

import structlog

from application.accounts.mail import DeliverMail, Delivery, Outcome

logger = structlog.get_logger("bookly.mail")


def log_delivery(delivery: Delivery) -> None:
    fields: dict[str, Any] = {"job_id": str(delivery.job_id), "attempts": delivery.attempts}
    if delivery.outcome is Outcome.SENT:
        logger.info("mail_sent", **fields)
    elif delivery.outcome is Outcome.SKIPPED:
        logger.info("mail_skipped", reason=delivery.error, **fields)
    elif delivery.outcome is Outcome.RETRY_LATER:
        logger.warning(
            "mail_retry_scheduled",
            error=delivery.error,
            retry_in_seconds=round(delivery.retry_in_seconds or 0.0, 3),
            **fields,
        )
    else:
        logger.error("mail_failed", error=delivery.error, **fields)


def in_process_mail_handler(
    deliver: DeliverMail, time_limit_seconds: float
) -> Callable[[Mapping[str, Any]], Awaitable[None]]:
    """The in-process queue's handler for mail jobs. As in the worker, the request id of
    the job's cause is bound into its log lines, and an attempt that runs past the time
    limit is cut short and counts as a transient failure (so no attempt outlives the
    lease on its job)."""

    async def handle(payload: Mapping[str, Any]) -> None:
        job_id = UUID(str(payload["job_id"]))
        with structlog.contextvars.bound_contextvars(
            request_id=payload.get("request_id"), job_id=str(job_id)
        ):
            try:
                async with asyncio.timeout(time_limit_seconds):
                    delivery = await deliver.execute(job_id)
            except TimeoutError:
                interrupted = await deliver.interrupt(job_id, "the time limit ran out")
                if interrupted is None:
                    return
                delivery = interrupted
            log_delivery(delivery)

    return handle
