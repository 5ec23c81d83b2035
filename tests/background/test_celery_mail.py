"""Mail through Celery: the API writes the outbox, `bookly worker` relays and sends.

A real worker process on a private Redis broker, the PostgreSQL test database and an
aiosmtpd server: no mail lost (broker down, worker killed, SMTP failing for a while),
none sent twice, failures recorded and visible in the logs and in Flower.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable

import httpx
import pytest

from tests.background.support import count_after, eventually, outbox, settled, signup
from tests.services import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.smtp]


async def test_signup_mail_goes_out_through_the_worker_once(
    api_factory, smtp: Callable, processes, values, database_url
):
    inbox, smtp_port = smtp()
    worker = await processes.worker({**values, "smtp_port": smtp_port})
    async with api_factory(smtp_port) as api:
        ready = await api.client.get("/ready")
        assert ready.status_code == 200 and ready.json()["checks"]["broker"] == "ok"
        await signup(api.client, request_id="req-signup-1")
        await eventually(lambda: inbox.envelopes, what="the verification mail")
    (job,) = await settled(database_url)
    assert (job["status"], job["attempts"], job["request_id"]) == ("sent", 1, "req-signup-1")
    (mail,) = inbox.messages()
    assert mail["To"] == "ada@example.com" and "Confirm" in mail["Subject"]
    assert mail["Message-ID"].startswith(f"<{job['id']}@")  # the job id: one id per mail
    assert "/api/v1/auth/verify/" in mail.get_body(("plain",)).get_content()
    assert await count_after(inbox) == 1
    log = worker.output()
    sent = next(line for line in log.splitlines() if "mail_sent" in line)
    assert f"job_id={job['id']}" in sent and "request_id=req-signup-1" in sent


async def test_with_the_broker_down_signup_answers_fast_and_the_mail_follows(
    api_factory, smtp: Callable, processes, values, broker, database_url
):
    inbox, smtp_port = smtp()
    worker = await processes.worker({**values, "smtp_port": smtp_port})
    async with api_factory(smtp_port) as api:
        broker.stop()
        started = time.perf_counter()
        await signup(api.client)
        assert time.perf_counter() - started < 2.0
        ready = await api.client.get("/ready")
        assert (ready.status_code, ready.json()["dependency"]) == (503, "broker")
        (job,) = await outbox(database_url)
        assert job["status"] in ("pending", "dispatched")  # kept until the broker is back
        await eventually(
            lambda: "outbox relay failed" in worker.output(),
            timeout=10,
            what="the relay noticing the broker is down",
        )
        assert inbox.envelopes == []

        broker.start()
        await eventually(lambda: inbox.envelopes, timeout=40, what="the mail after the outage")
        assert (await api.client.get("/ready")).status_code == 200
    (job,) = await settled(database_url)
    assert job["status"] == "sent"
    assert await count_after(inbox) == 1


async def test_a_worker_killed_mid_send_sends_the_mail_once_after_a_new_worker_starts(
    api_factory, smtp: Callable, processes, values, database_url
):
    inbox, smtp_port = smtp(delays=[30.0])  # the first delivery hangs in DATA
    values = {**values, "task_soft_time_limit_seconds": 1, "task_time_limit_seconds": 2}
    first = await processes.worker({**values, "smtp_port": smtp_port}, name="first")
    async with api_factory(smtp_port) as api:
        await signup(api.client)
        await eventually(inbox.data_started.is_set, what="the first delivery to start")
        first.kill(signal.SIGKILL)  # mid-task: the server has not answered DATA yet
        (job,) = await outbox(database_url)
        assert (job["status"], job["attempts"]) == ("sending", 1)

        await processes.worker({**values, "smtp_port": smtp_port}, name="second")
        await eventually(lambda: inbox.envelopes, timeout=30, what="the mail after the kill")
    (job,) = await settled(database_url)
    assert (job["status"], job["attempts"]) == ("sent", 2)
    assert await count_after(inbox) == 1


async def test_a_worker_told_to_stop_finishes_its_task_and_exits_cleanly(
    api_factory, smtp: Callable, processes, values, database_url
):
    """A rolling restart of the workers: SIGTERM is Celery's warm shutdown, which lets the
    task that is sending finish (its job is acknowledged late, so a worker killed instead
    leaves it to another)."""
    inbox, smtp_port = smtp(delays=[1.0])  # the delivery takes a second
    worker = await processes.worker({**values, "smtp_port": smtp_port}, name="stopping")
    async with api_factory(smtp_port) as api:
        await signup(api.client)
        await eventually(inbox.data_started.is_set, what="the delivery to start")
        worker.popen.send_signal(signal.SIGTERM)  # mid-send
        code = await asyncio.to_thread(worker.popen.wait, 30)
    assert code == 0, worker.output()[-2000:]
    (job,) = await settled(database_url)
    assert (job["status"], job["attempts"]) == ("sent", 1)
    assert await count_after(inbox) == 1


async def test_an_smtp_server_failing_twice_then_accepting_gets_the_mail_once(
    api_factory, smtp: Callable, processes, values, database_url
):
    inbox, smtp_port = smtp(replies=["451 4.3.0 Try again later"] * 2)
    worker = await processes.worker({**values, "smtp_port": smtp_port})
    async with api_factory(smtp_port) as api:
        await signup(api.client)
        await eventually(lambda: inbox.envelopes, timeout=30, what="the mail after two 451s")
    (job,) = await settled(database_url)
    assert (job["status"], job["attempts"], inbox.attempts) == ("sent", 3, 3)
    assert "451" in job["last_error"]  # the last failure is kept for the record
    assert await count_after(inbox) == 1
    assert worker.output().count("mail_retry_scheduled") == 2


async def test_a_5xx_fails_the_job_for_good_in_logs_and_in_flower(
    api_factory, smtp: Callable, processes, values, database_url
):
    inbox, smtp_port = smtp(replies=["550 5.1.1 No such mailbox"])
    worker_values = {**values, "smtp_port": smtp_port}
    flower_port = free_port()
    flower_values = {
        **worker_values,
        "env": "production",
        "flower_user": "ops",
        "flower_password": "flower-test-password",
    }
    await processes.flower(flower_values, flower_port)
    worker = await processes.worker(worker_values, name="mailer")
    flower_url = f"http://127.0.0.1:{flower_port}"
    auth = httpx.BasicAuth("ops", "flower-test-password")
    async with httpx.AsyncClient(base_url=flower_url, timeout=10) as flower:
        assert (await flower.get("/api/workers")).status_code == 401  # basic auth required

        async def worker_online() -> bool:
            answer = await flower.get("/api/workers", params={"status": "true"}, auth=auth)
            return answer.status_code == 200 and any(
                name.startswith("mailer@") and up for name, up in answer.json().items()
            )

        await eventually(worker_online, timeout=30, interval=0.2, what="Flower seeing the worker")

        async with api_factory(smtp_port) as api:
            await signup(api.client, request_id="req-refused")
            (failed,) = await settled(database_url)
            await signup(api.client, "bob@example.com", "bob")
            await eventually(lambda: inbox.envelopes, what="the second mail")
        failed_job, sent_job = await settled(database_url, 2)
        assert failed_job["id"] == failed["id"]
        assert (failed_job["status"], failed_job["attempts"]) == ("failed", 1)
        assert "550" in failed_job["last_error"] and inbox.attempts == 2

        async def task_states() -> dict[str, str] | None:
            tasks = (await flower.get("/api/tasks", auth=auth)).json()
            states = {task_id: task["state"] for task_id, task in tasks.items()}
            wanted = [str(failed_job["id"]), str(sent_job["id"])]
            final = all(states.get(task_id) in ("SUCCESS", "FAILURE") for task_id in wanted)
            return states if final else None

        states = await eventually(
            task_states, timeout=20, interval=0.2, what="Flower listing the tasks"
        )
        assert states[str(failed_job["id"])] == "FAILURE"
        assert states[str(sent_job["id"])] == "SUCCESS"
        workers = (await flower.get("/api/workers", params={"refresh": "true"}, auth=auth)).json()
        (mailer,) = [info for name, info in workers.items() if name.startswith("mailer@")]
        assert "bookly.send_email" in mailer["registered"]

    failure = next(line for line in worker.output().splitlines() if "mail_failed" in line)
    assert f"job_id={failed_job['id']}" in failure and "request_id=req-refused" in failure
    assert "550" in failure
