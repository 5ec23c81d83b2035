"""Mail jobs: what use cases write to the outbox, and the use case that delivers one."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol
from uuid import UUID

from application.outbox.retry import RetryPolicy
from application.ports.messaging import MailDeliveryError, Mailer, MailRenderer
from application.ports.outbox import FINISHED, OutboxJob, OutboxRepository, OutboxStore

SEND_EMAIL_TASK = "bookly.send_email"

VERIFY_EMAIL = "verify_email"
ACCOUNT_EXISTS = "account_exists"
PASSWORD_RESET = "password_reset"  # noqa: S105 - a template name


async def stage_mail(
    outbox: OutboxRepository, template: str, to: str, context: Mapping[str, Any]
) -> None:
    """Write a mail job in the caller's unit of work; it goes out once that commits."""
    await outbox.add(SEND_EMAIL_TASK, {"template": template, "to": to, "context": dict(context)})


async def stage_account_mail(outbox: OutboxRepository, template: str, to: str) -> None:
    """Write a mail job whose content (and whether it goes at all) is decided when it is
    sent, from the account that has the address `to` then (see `AccountMailContent`).

    The request that stages it does the same work whoever owns the address, or nobody:
    it cannot tell by its answer or its timing which addresses have accounts."""
    await outbox.add(SEND_EMAIL_TASK, {"template": template, "to": to, "account": True})


class AccountMailContent(Protocol):
    async def context(self, template: str, to: str) -> Mapping[str, Any] | None:
        """The mail's context for the account at address `to` as it is now; None when
        that address has no account the mail is for (the job is then dropped)."""


class Outcome(StrEnum):
    SENT = "sent"
    SKIPPED = "skipped"  # already finished, held by another attempt, or nobody to mail
    RETRY_LATER = "retry_later"  # a transient failure; the outbox hands it over again later
    FAILED = "failed"  # permanently refused, or out of attempts


@dataclass(frozen=True, slots=True)
class Delivery:
    job_id: UUID
    outcome: Outcome
    attempts: int = 0
    error: str | None = None
    retry_in_seconds: float | None = None
    request_id: str | None = None


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:1000]


class DeliverMail:
    """Send one mail job at most once: attempts are claimed one at a time in the outbox,
    and a sent job is never sent again. Transient failures are tried again later with
    backoff, up to `RetryPolicy.max_attempts`; permanent ones end the job as failed.

    Runs wherever the task queue runs jobs (a Celery worker, or this process).
    """

    def __init__(
        self,
        outbox: OutboxStore,
        renderer: MailRenderer,
        mailer: Mailer,
        retry: RetryPolicy,
        lease_seconds: float,
        accounts: AccountMailContent,
    ) -> None:
        self._outbox, self._renderer, self._mailer = outbox, renderer, mailer
        self._retry, self._lease, self._accounts = retry, lease_seconds, accounts

    async def execute(self, job_id: UUID) -> Delivery:
        job = await self._outbox.start_attempt(job_id, self._lease)
        if job is None:
            return await self._skipped(job_id)
        if job.attempts > self._retry.max_attempts:  # earlier attempts died with their worker
            return await self._fail(job, "no attempt finished within the allowed tries")
        template, to = str(job.payload["template"]), str(job.payload["to"])
        context = job.payload.get("context") or {}
        if job.payload.get("account"):
            try:
                context = await self._accounts.context(template, to)
            except Exception as error:  # the database, most likely: try again later
                return await self.interrupted(job, describe(error))
            if context is None:
                await self._outbox.discard(job.id)
                return Delivery(
                    job.id,
                    Outcome.SKIPPED,
                    job.attempts,
                    "no account to mail at this address",
                    request_id=job.request_id,
                )
        try:
            message = self._renderer.render(template, to, dict(context))
        except Exception as error:  # a bad job: no later attempt renders it either
            return await self._fail(job, describe(error))
        try:
            await self._mailer.send(dataclasses.replace(message, idempotency_key=str(job.id)))
        except Exception as error:
            if isinstance(error, MailDeliveryError) and error.permanent:
                return await self._fail(job, describe(error))
            return await self.interrupted(job, describe(error))
        await self._outbox.mark_sent(job.id)
        return Delivery(job.id, Outcome.SENT, job.attempts, request_id=job.request_id)

    async def interrupt(self, job_id: UUID, error: str) -> Delivery | None:
        """The attempt running `job_id` was cut short (a time limit): as a transient failure."""
        job = await self._outbox.get(job_id)
        if job is None or job.status in FINISHED:
            return None
        return await self.interrupted(job, error)

    async def interrupted(self, job: OutboxJob, error: str) -> Delivery:
        """A transient failure of the attempt on `job`: try again later, or give up."""
        if self._retry.gives_up_after(job.attempts):
            return await self._fail(job, error)
        delay = self._retry.delay(job.attempts)
        await self._outbox.retry_later(job.id, error, delay)
        return Delivery(job.id, Outcome.RETRY_LATER, job.attempts, error, delay, job.request_id)

    async def _fail(self, job: OutboxJob, error: str) -> Delivery:
        await self._outbox.mark_failed(job.id, error)
        return Delivery(job.id, Outcome.FAILED, job.attempts, error, request_id=job.request_id)

    async def _skipped(self, job_id: UUID) -> Delivery:
        job = await self._outbox.get(job_id)
        if job is None:
            reason = "no such job"
        elif job.status in FINISHED:
            reason = f"already {job.status.value}"
        else:
            reason = f"{job.status.value}: not for this attempt"
        return Delivery(
            job_id,
            Outcome.SKIPPED,
            job.attempts if job else 0,
            reason,
            request_id=job.request_id if job else None,
        )
