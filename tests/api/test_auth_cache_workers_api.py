"""Two `bookly serve` processes on one PostgreSQL database and one Redis, configured as in
production: a logout, a role change, a deactivation and a logout everywhere made through
one are seen by the other within the bound `adapters/redis/auth_cache.py` promises, though
the other answers those sessions from memory and would keep them for minutes."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from adapters.redis.auth_cache import DEAF_AFTER_SECONDS
from migrations import upgrade_to_head
from tests.api.support import PASSWORD
from tests.live_service import (
    LiveService,
    call,
    create_admin,
    live_services,
    log_in,
    service_environment,
)
from tests.services import eventually

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

ME = "/api/v1/auth/me"
ROOT, READER = "root@example.com", "reader@example.com"
CACHED_FOR = "600"  # seconds: far past the test, so only an invalidation can end an entry


def reading(service: LiveService, name: str) -> float:
    with urllib.request.urlopen(f"{service.base_url}/metrics", timeout=10) as answer:
        exposition = answer.read().decode()
    return sum(
        sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == name
    )


def me(service: LiveService, token: str) -> tuple[int, Any]:
    return call(service.base_url, "GET", ME, token)


def from_memory(service: LiveService, token: str) -> bool:
    """Whether `service` answers GET /me for `token` from its memory (a cache hit)."""
    hits = reading(service, "bookly_session_cache_hits_total")
    status, _ = me(service, token)
    return status == 200 and reading(service, "bookly_session_cache_hits_total") == hits + 1


def warm(service: LiveService, token: str) -> None:
    """The first check loads the account into Redis, the next brings it into memory."""
    assert any(from_memory(service, token) for _ in range(5)), "never answered from memory"


async def seen_by_the_other(condition: Callable[[], bool], what: str) -> None:
    await eventually(condition, f"{what}, seen by the other worker", within=DEAF_AFTER_SECONDS)


async def test_a_change_made_through_one_worker_is_seen_by_another_within_the_bound(
    tmp_path: Path, own_postgres_url: str, redis_url: str, redis_prefix: str
) -> None:
    environment = service_environment(
        tmp_path,
        database_url=own_postgres_url,
        redis_url=redis_url,
        redis_key_prefix=redis_prefix,
        account_cache_seconds=CACHED_FOR,
        session_cache_seconds=CACHED_FOR,
        outbox_poll_seconds="3600",
    )
    await asyncio.to_thread(upgrade_to_head, own_postgres_url)
    await asyncio.gather(
        *(
            asyncio.to_thread(create_admin, environment, email, PASSWORD, tmp_path)
            for email in (ROOT, READER)
        )
    )
    with live_services(environment, tmp_path, 2) as (a, b):
        await eventually(
            lambda: all(reading(s, "bookly_session_cache_trusted") == 1 for s in (a, b)),
            "both workers listen",
        )
        admin, admin_elsewhere = (log_in(a.base_url, ROOT, PASSWORD) for _ in range(2))
        logged_out, reader = (log_in(a.base_url, READER, PASSWORD) for _ in range(2))
        for service in (a, b):
            for token in (admin, admin_elsewhere, logged_out, reader):
                warm(service, token)

        assert call(a.base_url, "POST", "/api/v1/auth/logout", logged_out)[0] == 204
        assert me(a, logged_out)[0] == 401  # at once, where it was made
        await seen_by_the_other(lambda: me(b, logged_out)[0] == 401, "a logout")
        assert from_memory(b, reader)  # the account's other session is still kept

        uid = me(a, reader)[1]["uid"]
        status, changed = call(a.base_url, "PATCH", f"/api/v1/users/{uid}", admin, {"role": "user"})
        assert (status, changed["role"]) == (200, "user")
        assert me(a, reader)[1]["role"] == "user"
        await seen_by_the_other(lambda: me(b, reader)[1]["role"] == "user", "a role change")

        warm(b, reader)
        status, _ = call(a.base_url, "PATCH", f"/api/v1/users/{uid}", admin, {"is_active": False})
        assert status == 200
        assert me(a, reader)[0] == 401
        await seen_by_the_other(lambda: me(b, reader)[0] == 401, "a deactivation")

        assert from_memory(b, admin_elsewhere)
        assert call(a.base_url, "POST", "/api/v1/auth/logout-all", admin)[0] == 204
        assert me(a, admin)[0] == me(a, admin_elsewhere)[0] == 401
        await seen_by_the_other(
            lambda: me(b, admin_elsewhere)[0] == me(b, admin)[0] == 401, "a logout everywhere"
        )
