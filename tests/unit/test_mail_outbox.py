"""The mail outbox over memory adapters: jobs committed with their cause, relayed without
loss, delivered at most once per success, retried with backoff up to a bound."""

from __future__ import annotations

import asyncio
import dataclasses
from uuid import UUID

import pytest
from dependency_injector import providers

from application.accounts.mail import SEND_EMAIL_TASK, Outcome
from application.outbox.relay import RelayPolicy
from application.outbox.retry import RetryPolicy
from application.ports.messaging import PermanentMailError, TransientMailError
from application.ports.outbox import JobStatus
from domain.errors import UsernameTaken
from tests.unit.harness import signup_command


def jobs(harness):
    return list(harness.database.outbox_jobs.values())


def only_job(harness):
    (job,) = jobs(harness)
    return harness.database.outbox_jobs[job.id]


async def relayed(harness) -> UUID:
    """Sign up, relay the verification job; its id."""
    await harness.container.sign_up().execute(signup_command())
    assert await harness.container.outbox_relay().relay_due() == 1
    return only_job(harness).id


async def test_signup_commits_the_user_and_its_mail_job_together(harness):
    commits = harness.database.commits
    await harness.container.sign_up().execute(signup_command())
    assert harness.database.commits == commits + 1
    job = only_job(harness)
    assert (job.task_name, job.status, job.attempts) == (SEND_EMAIL_TASK, JobStatus.PENDING, 0)
    assert job.payload["template"] == "verify_email" and job.payload["to"] == "ada@example.com"


async def test_a_refused_signup_leaves_no_mail_job(harness):
    await harness.container.sign_up().execute(signup_command())
    with pytest.raises(UsernameTaken):
        await harness.container.sign_up().execute(signup_command("bob@example.com", "ADA"))
    assert [j.payload["to"] for j in jobs(harness)] == ["ada@example.com"]


async def test_the_relay_hands_due_jobs_over_once_by_id(harness):
    job_id = await relayed(harness)
    assert harness.queue.jobs == [(SEND_EMAIL_TASK, {"job_id": str(job_id), "request_id": None})]
    assert harness.queue.task_ids == [str(job_id)]
    assert only_job(harness).status is JobStatus.DISPATCHED
    assert await harness.container.outbox_relay().relay_due() == 0  # not due again yet


async def test_a_queue_that_is_down_loses_nothing(harness):
    await harness.container.sign_up().execute(signup_command())
    harness.queue.failure = ConnectionError("broker down")
    relay = harness.container.outbox_relay()
    with pytest.raises(ConnectionError):
        await relay.relay_due()
    assert only_job(harness).status is JobStatus.PENDING
    harness.queue.failure = None
    assert await relay.relay_due() == 1


async def test_the_relay_loop_keeps_trying_while_the_queue_is_down(harness):
    await harness.container.sign_up().execute(signup_command())
    harness.queue.failure = ConnectionError("broker down")
    quick = RelayPolicy(poll_seconds=0.01, max_backoff_seconds=0.04)
    harness.container.relay_policy.override(providers.Object(quick))
    relay = harness.container.outbox_relay()
    stop = asyncio.Event()
    loop = asyncio.create_task(relay.run(stop))
    await asyncio.sleep(0.05)
    assert harness.queue.jobs == []
    harness.queue.failure = None
    for _ in range(100):
        if harness.queue.jobs:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await loop
    assert len(harness.queue.jobs) == 1


async def test_delivery_sends_once_with_the_job_id_as_idempotency_key(harness):
    job_id = await relayed(harness)
    deliver = harness.container.deliver_mail()
    first = await deliver.execute(job_id)
    again = await deliver.execute(job_id)  # the same task delivered twice
    assert (first.outcome, again.outcome) == (Outcome.SENT, Outcome.SKIPPED)
    (message,) = harness.mailer.sent
    assert message.to == "ada@example.com" and message.idempotency_key == str(job_id)
    assert only_job(harness).status is JobStatus.SENT


async def test_a_live_attempt_holds_its_job(harness):
    job_id = await relayed(harness)
    store = harness.container.outbox()
    assert await store.start_attempt(job_id, 60) is not None
    assert await store.start_attempt(job_id, 60) is None  # a duplicate message meanwhile
    assert (await harness.container.deliver_mail().execute(job_id)).outcome is Outcome.SKIPPED
    assert harness.mailer.sent == []


async def test_a_dead_attempt_is_handed_over_again_when_its_lease_ends(harness):
    job_id = await relayed(harness)
    await harness.container.outbox().start_attempt(job_id, 60)  # then the worker dies
    relay = harness.container.outbox_relay()
    assert await relay.relay_due() == 0
    harness.clock.advance(61)
    assert await relay.relay_due() == 1
    assert (await harness.container.deliver_mail().execute(job_id)).outcome is Outcome.SENT
    assert only_job(harness).attempts == 2 and len(harness.mailer.sent) == 1


async def test_a_job_lost_by_the_broker_is_handed_over_again(harness):
    await relayed(harness)
    relay = harness.container.outbox_relay()
    harness.clock.advance(899)
    assert await relay.relay_due() == 0
    harness.clock.advance(2)
    assert await relay.relay_due() == 1


async def test_transient_failures_back_off_then_succeed(harness):
    job_id = await relayed(harness)
    deliver, relay = harness.container.deliver_mail(), harness.container.outbox_relay()
    harness.mailer.failure = TransientMailError("421 try later")
    failed = await deliver.execute(job_id)
    assert failed.outcome is Outcome.RETRY_LATER and 5 <= failed.retry_in_seconds <= 10
    job = only_job(harness)
    assert (job.status, job.attempts, job.last_error) == (
        JobStatus.PENDING,
        1,
        "TransientMailError: 421 try later",
    )
    assert await relay.relay_due() == 0  # not before the backoff
    harness.clock.advance(10)
    assert await relay.relay_due() == 1
    harness.mailer.failure = None
    assert (await deliver.execute(job_id)).outcome is Outcome.SENT
    assert len(harness.mailer.sent) == 1 and only_job(harness).attempts == 2


async def test_transient_failures_give_up_after_the_allowed_attempts(harness):
    job_id = await relayed(harness)
    deliver, relay = harness.container.deliver_mail(), harness.container.outbox_relay()
    harness.mailer.failure = ConnectionRefusedError("no server")
    outcomes = []
    for _ in range(8):
        outcomes.append((await deliver.execute(job_id)).outcome)
        harness.clock.advance(600)
        await relay.relay_due()
    assert outcomes == [Outcome.RETRY_LATER] * 7 + [Outcome.FAILED]
    job = only_job(harness)
    assert (job.status, job.attempts) == (JobStatus.FAILED, 8)
    assert "no server" in job.last_error


async def test_a_permanent_refusal_fails_at_once(harness):
    job_id = await relayed(harness)
    harness.mailer.failure = PermanentMailError("550 no such mailbox")
    delivery = await harness.container.deliver_mail().execute(job_id)
    assert (delivery.outcome, delivery.attempts) == (Outcome.FAILED, 1)
    assert only_job(harness).status is JobStatus.FAILED
    assert await harness.container.outbox_relay().relay_due() == 0


async def test_an_interrupted_attempt_counts_as_transient(harness):
    job_id = await relayed(harness)
    await harness.container.outbox().start_attempt(job_id, 60)
    delivery = await harness.container.deliver_mail().interrupt(job_id, "soft time limit")
    assert delivery is not None and delivery.outcome is Outcome.RETRY_LATER
    assert only_job(harness).status is JobStatus.PENDING


async def test_finished_jobs_are_purged_after_the_retention(harness):
    job_id = await relayed(harness)
    await harness.container.deliver_mail().execute(job_id)
    relay = harness.container.outbox_relay()
    assert await relay.purge() == 0
    harness.clock.advance(14 * 86_400 + 1)
    assert await relay.purge() == 1 and jobs(harness) == []


@pytest.mark.parametrize("attempts", range(1, 12))
def test_backoff_grows_with_jitter_and_a_cap(attempts):
    policy = RetryPolicy(max_attempts=8, base_seconds=10, cap_seconds=600)
    step = min(600, 10 * 2 ** (attempts - 1))
    assert policy.delay(attempts, 0.0) == step / 2
    assert policy.delay(attempts, 0.999) < step
    assert step / 2 <= policy.delay(attempts) < step
    assert policy.longest_wait() <= 7 * 600


def test_settings_keep_the_time_limits_and_the_lease_consistent():
    from pydantic import ValidationError

    from entrypoints.settings import Settings

    with pytest.raises(ValidationError, match="SOFT_TIME_LIMIT"):
        Settings(_env_file=None, task_soft_time_limit_seconds=50, task_time_limit_seconds=45)
    with pytest.raises(ValidationError, match="REDISPATCH"):
        Settings(_env_file=None, task_time_limit_seconds=800)
    assert Settings(_env_file=None).task_lease_seconds == 45 * 1.25


def test_flower_needs_basic_auth_in_production():
    from entrypoints.settings import Settings
    from entrypoints.worker.commands import flower_credentials

    production = {
        "env": "production",
        "secret_key": "s" * 40,
        "database_url": "postgresql+asyncpg://u@h/db",
    }
    with pytest.raises(SystemExit, match="BOOKLY_FLOWER_PASSWORD"):
        flower_credentials(Settings(_env_file=None, **production))
    assert (
        flower_credentials(
            Settings(_env_file=None, **production, flower_user="ops", flower_password="pw")
        )
        == "ops:pw"
    )
    assert flower_credentials(Settings(_env_file=None)) is None  # development: open


async def test_an_account_mail_is_made_when_it_is_sent_or_dropped(harness):
    """A verification job for an account verified meanwhile has nothing to send: it is
    dropped, and with it the address it names."""
    job_id = await relayed(harness)
    stored = harness.database.outbox_jobs
    stored[job_id] = dataclasses.replace(stored[job_id], request_id="request-1")
    (user,) = harness.database.users.values()
    user.is_verified = True
    delivery = await harness.container.deliver_mail().execute(job_id)
    assert (delivery.outcome, delivery.error) == (
        Outcome.SKIPPED,
        "no account to mail at this address",
    )
    # The log line names the request that caused the job; nothing is retried.
    assert (delivery.request_id, delivery.retry_in_seconds) == ("request-1", None)
    assert harness.mailer.sent == [] and jobs(harness) == []


async def test_an_account_mail_whose_account_cannot_be_read_is_tried_again(harness):
    job_id = await relayed(harness)

    class Unreachable:
        async def context(self, template, to):
            raise ConnectionError("database down")

    harness.container.account_mails.override(providers.Object(Unreachable()))
    harness.container.deliver_mail.reset()
    delivery = await harness.container.deliver_mail().execute(job_id)
    assert delivery.outcome is Outcome.RETRY_LATER and "database down" in delivery.error
    assert only_job(harness).status is JobStatus.PENDING and harness.mailer.sent == []
