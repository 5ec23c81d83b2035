"""Mail in the embedded default (no broker): the API process relays its own outbox to its
in-process queue, so a mail survives a restart, and even a `kill -9`, and goes out once.
"""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import pytest

from tests.background.support import (
    count_after,
    embedded,
    eventually,
    fast_settings,
    outbox,
    settled,
    signup,
)
from tests.services import free_port

pytestmark = pytest.mark.smtp


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'bookly.db'}"


async def test_a_mail_not_sent_before_a_restart_goes_out_once_after_it(smtp, database_url):
    inbox, smtp_port = smtp()
    async with embedded(database_url, smtp_port, outbox_poll_seconds=60) as api:
        await signup(api.client)  # the relay has looked already and waits a minute: stop first
    (job,) = await outbox(database_url)
    assert job["status"] == "pending" and inbox.envelopes == []

    async with embedded(database_url, smtp_port):
        await eventually(lambda: inbox.envelopes, what="the mail after the restart")
        (job,) = await settled(database_url)
    async with embedded(database_url, smtp_port):  # and once more: nothing is sent again
        assert await count_after(inbox) == 1
    assert (job["status"], job["attempts"]) == ("sent", 1)
    assert inbox.messages()[0]["Message-ID"].startswith(f"<{job['id']}@")


async def test_bookly_serve_killed_mid_send_sends_the_mail_once_after_a_restart(
    smtp, processes, database_url
):
    inbox, smtp_port = smtp(delays=[30.0])  # the first delivery hangs in DATA
    values = fast_settings(
        database_url=database_url,
        smtp_port=smtp_port,
        task_soft_time_limit_seconds=1,
        task_time_limit_seconds=2,
    )
    first_port = free_port()
    first = await processes.serve(values, first_port, name="first")
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{first_port}") as client:
        await signup(client)
    await eventually(inbox.data_started.is_set, what="the first delivery to start")
    first.kill(signal.SIGKILL)
    (job,) = await outbox(database_url)
    assert (job["status"], job["attempts"]) == ("sending", 1)

    await processes.serve(values, free_port(), name="second")
    await eventually(lambda: inbox.envelopes, timeout=30, what="the mail after the kill")
    (job,) = await settled(database_url)
    assert (job["status"], job["attempts"]) == ("sent", 2)
    assert await count_after(inbox) == 1


async def test_an_smtp_server_failing_twice_then_accepting_gets_the_mail_once(smtp, database_url):
    inbox, smtp_port = smtp(replies=["451 4.3.0 Try again later"] * 2)
    async with embedded(database_url, smtp_port) as api:
        await signup(api.client)
        await eventually(lambda: inbox.envelopes, timeout=30, what="the mail after two 451s")
        (job,) = await settled(database_url)
        assert await count_after(inbox) == 1
    assert (job["status"], job["attempts"], inbox.attempts) == ("sent", 3, 3)


async def test_a_5xx_fails_the_job_after_one_try(smtp, database_url):
    inbox, smtp_port = smtp(replies=["550 5.1.1 No such mailbox"])
    async with embedded(database_url, smtp_port) as api:
        await signup(api.client)
        (job,) = await settled(database_url)
        assert await count_after(inbox) == 0
    assert (job["status"], job["attempts"], inbox.attempts) == ("failed", 1, 1)
    assert "550" in job["last_error"]
