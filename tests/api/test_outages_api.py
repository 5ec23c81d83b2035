"""The PostgreSQL/Redis configuration under trouble: Redis stopped, many requests at once."""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path

import pytest

from tests.api.support import PASSWORD, bearer
from tests.services import free_port, start_redis_on, unavailable

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def configuration() -> str:
    return "production"


@pytest.fixture
def private_redis_port(tmp_path: Path):
    """A redis-server of this test's own, which the test may stop and start again."""
    port = free_port()
    try:
        process = start_redis_on(port, tmp_path)
    except (OSError, TimeoutError) as error:
        unavailable("redis-server (binary)", error)
    state = {"process": process}
    yield port, state
    state["process"].terminate()
    state["process"].wait(timeout=10)


async def timed(call):
    started = time.perf_counter()
    response = await call
    return response, time.perf_counter() - started


async def test_redis_down_gives_503_quickly_and_service_recovers(
    api_factory, private_redis_port, tmp_path
):
    port, state = private_redis_port
    async with api_factory(redis_url=f"redis://127.0.0.1:{port}/0") as api:
        await api.signup()
        token = (await api.login())["access_token"]
        state["process"].terminate()
        state["process"].wait(timeout=10)

        me, took = await timed(api.client.get("/api/v1/auth/me", headers=bearer(token)))
        assert (me.status_code, me.json()["error_code"]) == (503, "service_unavailable")
        assert me.headers["retry-after"] and took < 2.5
        login, took = await timed(
            api.client.post(
                "/api/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD}
            )
        )
        assert login.status_code == 503 and took < 2.5  # limits fail closed
        ready = await api.client.get("/ready")
        assert (ready.status_code, ready.json()["dependency"]) == (503, "redis")

        state["process"] = start_redis_on(port, tmp_path)
        assert (await api.client.get("/ready")).status_code == 200
        fresh = await api.login()  # the new server lost the sessions; new ones work
        assert (
            await api.client.get("/api/v1/auth/me", headers=bearer(fresh["access_token"]))
        ).status_code == 200


async def test_two_hundred_concurrent_requests_all_succeed(api):
    await api.signup()
    token = (await api.login())["access_token"]
    signups = [
        api.client.post(
            "/api/v1/auth/signup",
            json={
                "email": f"reader{i}@example.com",
                "username": f"reader{i}",
                "first_name": "R",
                "last_name": "N",
                "password": PASSWORD,
            },
        )
        for i in range(40)
    ]
    reads = [api.client.get("/api/v1/auth/me", headers=bearer(token)) for _ in range(120)]
    logins = [
        api.client.post(
            "/api/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD}
        )
        for _ in range(4)
    ]
    refused = [
        api.client.post(
            "/api/v1/auth/login", json={"email": f"nobody{i}@example.com", "password": PASSWORD}
        )
        for i in range(36)
    ]
    responses = await asyncio.gather(*signups, *reads, *logins, *refused)
    statuses = [r.status_code for r in responses]
    assert statuses == [202] * 40 + [200] * 120 + [200] * 4 + [401] * 36


def test_redis_server_binary_is_there():
    assert subprocess.run(["redis-server", "--version"], capture_output=True).returncode == 0


async def test_signup_mail_goes_out_over_smtp_in_production(api_factory):
    """The production mail path end to end: API → in-process queue → SMTP server."""
    from aiosmtpd.controller import Controller

    from tests.services import Inbox

    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        async with api_factory(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False) as api:
            await api.client.post(
                "/api/v1/auth/signup",
                json={
                    "email": "ada@example.com",
                    "username": "ada",
                    "first_name": "Ada",
                    "last_name": "Lovelace",
                    "password": PASSWORD,
                },
            )
            await api.container.outbox_relay().drain()
    finally:
        controller.stop()
    (message,) = inbox.messages()
    assert message["To"] == "ada@example.com"
    assert "/api/v1/auth/verify/" in message.get_body(("plain",)).get_content()
