"""The worker's tasks. Each takes plain data and hands the work to a use case."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import structlog
from celery import Celery, Task, signals
from celery.exceptions import Retry, SoftTimeLimitExceeded

from application.accounts.mail import SEND_EMAIL_TASK, Outcome
from application.outbox.retry import RetryPolicy
from entrypoints.background import log_delivery
from entrypoints.worker.runtime import Runtime


class MailNotDelivered(Exception):
    """Ends a mail task as failed (Flower shows it); the outbox row says why."""


def register_tasks(app: Celery, runtime: Runtime, retry: RetryPolicy) -> None:
    @app.task(
        name=SEND_EMAIL_TASK,
        bind=True,
        acks_late=True,
        reject_on_worker_lost=True,
        ignore_result=True,
    )
    def send_email(self: Task[..., str], job_id: str, request_id: str | None = None) -> str:
        """Deliver the outbox's mail job `job_id` (the task id is the same id).

        A transient failure puts the job back in the outbox with a backoff; the task
        ends as RETRY, and the relay hands the job over again when it is due.
        """
        uid = UUID(job_id)
        try:
            delivery = runtime.run(lambda c: c.deliver_mail().execute(uid))
        except SoftTimeLimitExceeded:
            interrupted = runtime.run(
                lambda c: c.deliver_mail().interrupt(uid, "the task's soft time limit ran out")
            )
            if interrupted is None:
                raise
            delivery = interrupted
        except Exception as error:  # the database, most likely: try again through the broker
            retries = self.request.retries
            raise self.retry(
                exc=error, countdown=retry.delay(retries + 1), max_retries=retry.max_attempts
            ) from error
        log_delivery(delivery)
        if delivery.outcome is Outcome.RETRY_LATER:
            raise Retry(
                f"attempt {delivery.attempts} failed; the outbox tries again",
                exc=MailNotDelivered(delivery.error),
                # celery-types says `when: numbers.Real`, which mypy never matches with a float
                when=delivery.retry_in_seconds,  # type: ignore[arg-type]
            )
        if delivery.outcome is Outcome.FAILED:
            raise MailNotDelivered(
                f"gave up after {delivery.attempts} attempt(s): {delivery.error}"
            )
        return delivery.outcome.value


@signals.task_prerun.connect(weak=False, dispatch_uid="bookly-bind-task-context")
def _bind_task_context(task_id: str, kwargs: dict[str, Any] | None = None, **_: Any) -> None:
    """Every log line of a task, Celery's own included, names the job and the request."""
    kwargs = kwargs or {}
    structlog.contextvars.bind_contextvars(
        task_id=task_id, job_id=kwargs.get("job_id"), request_id=kwargs.get("request_id")
    )


@signals.task_postrun.connect(weak=False, dispatch_uid="bookly-unbind-task-context")
def _unbind_task_context(**_: Any) -> None:
    structlog.contextvars.unbind_contextvars("task_id", "job_id", "request_id")
