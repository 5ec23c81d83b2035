"""What the background tests share besides fixtures: their settings, the embedded default
as `bookly serve` runs it, and waiting for and reading what the mail pipeline did."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from sqlalchemy import select

from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.tables import outbox_jobs
from entrypoints.container import build_container
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from migrations import upgrade_to_head
from tests.api.support import Api

SECRET = "background-tests-secret-key-0123456789abcdef"


PASSWORD = "correct horse battery"


async def eventually(
    check: Callable[[], Awaitable[Any] | Any],
    timeout: float = 20.0,
    interval: float = 0.05,
    what: str = "the condition",
) -> Any:
    """Poll `check` (sync or async) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout}s")
        await asyncio.sleep(interval)


async def signup(
    client: httpx.AsyncClient,
    email: str = "ada@example.com",
    username: str = "ada",
    request_id: str | None = None,
) -> httpx.Response:
    headers = {"X-Request-ID": request_id} if request_id else {}
    response = await client.post(
        "/api/v1/auth/signup",
        headers=headers,
        json={
            "email": email,
            "username": username,
            "first_name": "Ada",
            "last_name": "Lovelace",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 202, response.text
    return response


async def outbox(database_url: str) -> list[dict[str, Any]]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(select(outbox_jobs).order_by(outbox_jobs.c.created_at))
            return [dict(row._mapping) for row in rows]
    finally:
        await engine.dispose()


async def settled(database_url: str, count: int = 1) -> list[dict[str, Any]]:
    """The outbox once `count` jobs are all finished."""

    async def finished() -> list[dict[str, Any]] | None:
        jobs = await outbox(database_url)
        done = len(jobs) == count and all(j["status"] in ("sent", "failed") for j in jobs)
        return jobs if done else None

    return await eventually(finished, timeout=30, interval=0.1, what="the jobs to finish")


async def count_after(inbox, seconds: float = 0.5) -> int:
    """The mails held a little later. Once its job is finished no attempt can start, so
    this only catches one that was already under way (a duplicate would show here)."""
    await asyncio.sleep(seconds)
    return len(inbox.envelopes)


def fast_settings(**values: Any) -> dict[str, Any]:
    """Settings for tests: short backoffs and limits, quick relays, cheap hashing."""
    return {
        "env": "test",
        "secret_key": SECRET,
        "smtp_host": "127.0.0.1",
        "smtp_starttls": False,
        "smtp_timeout_seconds": 5,
        "outbox_poll_seconds": 0.1,
        "mail_max_attempts": 4,
        "mail_retry_base_seconds": 0.2,
        "mail_retry_max_seconds": 1.0,
        "task_soft_time_limit_seconds": 2,
        "task_time_limit_seconds": 3,
        "outbox_redispatch_after_seconds": 30,
        "worker_concurrency": 1,
        "argon2_time_cost": 1,
        "argon2_memory_kib": 1024,
        "ip_rate_limit": 10_000,
        "dependency_timeout_seconds": 1.0,
        **values,
    }


@asynccontextmanager
async def embedded(database_url: str, smtp_port: int, **overrides: Any) -> AsyncIterator[Api]:
    """The app as `bookly serve` runs it (lifespan included: the relay loop runs)."""
    await asyncio.to_thread(upgrade_to_head, database_url)
    settings = Settings(
        _env_file=None,
        **fast_settings(
            database_url=database_url,
            smtp_port=smtp_port,
            allowed_hosts=["testserver"],
            **overrides,
        ),
    )
    container = build_container(settings)
    app = create_app(settings, container)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Api(client, app, container, settings)
