"""A rolling restart loses nothing: two `bookly serve` processes of one deployment under a
load of reads and writes; one gets SIGTERM. It says it is not ready at once, serves on
through BOOKLY_SHUTDOWN_DELAY_SECONDS, then refuses new connections, finishes what it has
and exits 0. No request fails or loses its answer, and every book written exists once.

The client plays the load balancer: it probes /ready every PROBE_SECONDS and sends to a
process only while it is ready, with a connection per request (no idle connection to a
process that is going away); a connection refused goes to the other process."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from migrations import upgrade_to_head
from tests.api.support import BODY, PASSWORD
from tests.live_service import create_admin, live_services, log_in, service_environment

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

DELAY = 1.5
PROBE_SECONDS = 0.2
EMAIL = "ops@example.com"


async def test_sigterm_under_load_loses_no_request_and_no_write(
    tmp_path: Path, own_postgres_url: str, redis_url: str, redis_prefix: str
) -> None:
    environment = service_environment(
        tmp_path,
        database_url=own_postgres_url,
        redis_url=redis_url,
        redis_key_prefix=redis_prefix,
        shutdown_delay_seconds=str(DELAY),
        shutdown_grace_seconds="10",
        outbox_poll_seconds="3600",
    )
    await asyncio.to_thread(upgrade_to_head, own_postgres_url)
    await asyncio.to_thread(create_admin, environment, EMAIL, PASSWORD, tmp_path)
    with live_services(environment, tmp_path, 2) as (first, second):
        token = log_in(first.base_url, EMAIL, PASSWORD)
        headers = {"Authorization": f"Bearer {token}"}
        limits = httpx.Limits(max_keepalive_connections=0)
        failures: list[str] = []
        refused: list[float] = []
        created: set[str] = set()
        stopped_at: list[float] = []
        ready = {first.base_url: True, second.base_url: True}

        async def balance(client: httpx.AsyncClient) -> None:
            while not stopped_at or time.monotonic() < stopped_at[0] + DELAY + 1.5:
                try:
                    probe = await client.get(f"{first.base_url}/ready")
                    ready[first.base_url] = probe.status_code == 200
                except httpx.HTTPError:
                    ready[first.base_url] = False
                await asyncio.sleep(PROBE_SECONDS)

        async def send(client: httpx.AsyncClient, n: int) -> None:
            write = n % 2 == 0
            key = str(uuid4())
            preferred = first.base_url if n % 4 < 2 else second.base_url
            targets = [base for base in (preferred, second.base_url) if ready[base]]
            for base in dict.fromkeys(targets):
                try:
                    if write:
                        body = {**BODY, "title": f"Book {key}"}
                        answer = await client.post(
                            f"{base}/api/v1/books",
                            json=body,
                            headers={**headers, "Idempotency-Key": key},
                        )
                    else:
                        answer = await client.get(f"{base}/api/v1/books?limit=5")
                except httpx.ConnectError:
                    refused.append(time.monotonic())
                    continue  # never reached the process: the balancer tries the other
                except httpx.HTTPError as error:
                    failures.append(f"{base}: {type(error).__name__}")
                    return
                if answer.status_code >= 300:
                    failures.append(f"{base}: {answer.status_code} {answer.text[:200]}")
                elif write:
                    created.add(answer.json()["uid"])
                return
            failures.append(f"request {n}: no process took it")

        async def load(client: httpx.AsyncClient, worker: int) -> None:
            for n in range(worker, 2000, 8):
                if stopped_at and time.monotonic() > stopped_at[0] + DELAY + 1.5:
                    return
                await send(client, n)

        async def restart(client: httpx.AsyncClient) -> tuple[int, int]:
            await asyncio.sleep(0.5)
            first.process.send_signal(signal.SIGTERM)
            stopped_at.append(time.monotonic())
            await asyncio.sleep(0.3)
            ready = await client.get(f"{first.base_url}/ready")  # not ready, yet serving
            health = await client.get(f"{first.base_url}/health")
            return ready.status_code, health.status_code

        async with httpx.AsyncClient(limits=limits, timeout=10) as client:
            outcome, *_ = await asyncio.gather(
                restart(client), balance(client), *(load(client, worker) for worker in range(8))
            )
            assert outcome == (503, 200)
            exit_code = await asyncio.to_thread(first.process.wait, 15)
            assert exit_code == 0, first.output()[-2000:]
            assert failures == [], failures[:5]
            assert not refused or min(refused) >= stopped_at[0] + DELAY - 0.1  # only after it
            listed = await client.get(f"{second.base_url}/api/v1/books?limit=1", headers=headers)
        assert listed.json()["total"] == len(created)  # none lost, none twice
        assert len(created) > 20
