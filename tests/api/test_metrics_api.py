"""GET /metrics (Prometheus text format): requests by method, route template and status,
latency histograms, requests in flight, the database pool; private unless configured;
one sum over several `bookly serve` workers."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from adapters.sqlalchemy.book_reads import PoolRows
from entrypoints.container import open_resources
from entrypoints.settings import Settings
from tests.api.support import PASSWORD, assert_problem, bearer
from tests.live_service import live_service, log_in, run_bookly, service_environment
from tests.services import eventually

REQUESTS = "bookly_http_requests_total"
CACHE_HITS = "bookly_session_cache_hits_total"
CACHE_MISSES = "bookly_session_cache_misses_total"
ME = "/api/v1/auth/me"
LATENCY = "bookly_http_request_duration_seconds"
METRICS_TOKEN = "scrape-token-0123456789abcdef"


def families(exposition: str) -> dict[str, object]:
    return {family.name: family for family in text_string_to_metric_families(exposition)}


def value(exposition: str, name: str, **labels: str) -> float | None:
    """The one sample called `name` with exactly these labels (None when there is none)."""
    found = [
        sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == name and sample.labels == labels
    ]
    assert len(found) <= 1
    return found[0] if found else None


async def scrape(api, **headers: str) -> str:
    response = await api.client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_requests_are_counted_by_route_template_never_by_raw_path(api):
    uid = str(uuid.uuid4())
    for _ in range(3):
        assert (await api.client.get(f"/api/v1/books/{uid}")).status_code == 404
    assert (await api.client.get("/api/v1/books")).status_code == 200
    link = "not-a-real-link-token-" + uuid.uuid4().hex
    assert (await api.client.get(f"/api/v1/auth/verify/{link}")).status_code == 400
    assert (await api.client.get(f"/no/such/place/{link}")).status_code == 404
    assert (await api.client.request("BREW", "/api/v1/books")).status_code == 405

    exposition = await scrape(api)
    book = {"method": "GET", "route": "/api/v1/books/{uid}", "status": "404"}
    assert value(exposition, REQUESTS, **book) == 3
    assert value(exposition, REQUESTS, method="GET", route="/api/v1/books", status="200") == 1
    assert (
        value(exposition, REQUESTS, method="GET", route="/api/v1/auth/verify/{token}", status="400")
        == 1
    )
    assert value(exposition, REQUESTS, method="GET", route="<unmatched>", status="404") == 1
    assert value(exposition, REQUESTS, method="OTHER", route="/api/v1/books", status="405") == 1
    assert uid not in exposition and link not in exposition and "BREW" not in exposition

    again = await scrape(api)
    assert value(again, REQUESTS, **book) == 3
    assert value(again, REQUESTS, method="GET", route="/metrics", status="200") == 1


async def test_latency_is_a_histogram_by_route_and_status(api):
    for _ in range(2):
        assert (await api.client.get("/health")).status_code == 200
    exposition = await scrape(api)
    assert families(exposition)["bookly_http_request_duration_seconds"].type == "histogram"
    health = {"method": "GET", "route": "/health", "status": "200"}
    assert value(exposition, f"{LATENCY}_count", **health) == 2
    assert value(exposition, f"{LATENCY}_bucket", **health, le="+Inf") == 2
    assert value(exposition, f"{LATENCY}_bucket", **health, le="10.0") == 2
    assert 0 < value(exposition, f"{LATENCY}_sum", **health) < 10


async def test_requests_in_flight_and_the_process(api):
    exposition = await scrape(api)
    assert value(exposition, "bookly_http_requests_in_flight") == 1  # this scrape
    assert value(exposition, "process_cpu_seconds_total") > 0


async def test_pool_usage_is_read_at_scrape_time(api):
    idle = await scrape(api)
    assert value(idle, "bookly_db_pool_size") == api.settings.database_pool_size
    assert value(idle, "bookly_db_pool_checked_out") == 0
    assert value(idle, "bookly_db_pool_overflow") == 0
    async with api.container.engine().connect() as connection:
        await connection.execute(text("SELECT 1"))
        busy = await scrape(api)
    assert value(busy, "bookly_db_pool_checked_out") == 1
    after = await scrape(api)
    assert value(after, "bookly_db_pool_checked_out") == 0
    assert value(after, "bookly_db_pool_checked_in") >= 1


async def test_the_read_pool_is_read_at_scrape_time_on_postgresql(api):
    if not isinstance(api.container.catalogue_rows(), PoolRows):
        assert value(await scrape(api), "bookly_db_read_pool_size") is None  # SQLite: none
        return
    assert value(await scrape(api), "bookly_db_read_pool_size") == 0  # opened at first use
    assert (await api.client.get(f"/api/v1/books/{uuid.uuid4()}")).status_code == 404
    idle = await scrape(api)
    assert value(idle, "bookly_db_read_pool_size") == 1
    assert value(idle, "bookly_db_read_pool_in_use") == 0


async def test_metrics_can_be_turned_off(api_factory):
    async with api_factory(metrics_enabled=False) as api:
        assert_problem(await api.client.get("/metrics"), 404, "not_found")
        assert (await api.client.get("/health")).status_code == 200


async def test_a_configured_token_is_required_to_scrape(api_factory):
    async with api_factory(metrics_token=METRICS_TOKEN) as api:
        missing = assert_problem(await api.client.get("/metrics"), 401, "not_authenticated")
        wrong = await api.client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert_problem(wrong, 401, "invalid_token")
        assert wrong.headers["www-authenticate"] == "Bearer"
        raw = await api.client.get("/metrics", headers={"Authorization": METRICS_TOKEN})
        assert_problem(raw, 401, "invalid_token")
        exposition = await scrape(api, Authorization=f"Bearer {METRICS_TOKEN}")
        assert value(exposition, REQUESTS, method="GET", route="/metrics", status="401") == 3
        assert METRICS_TOKEN not in exposition and METRICS_TOKEN not in str(missing)


PRODUCTION = {
    "env": "production",
    "secret_key": "p" * 40,
    "database_url": "postgresql+asyncpg://bookly@127.0.0.1/bookly",
}


@pytest.mark.parametrize(
    ("values", "exposed"),
    [
        ({}, True),
        ({"metrics_enabled": "false"}, False),
        ({"metrics_enabled": ""}, True),  # an empty variable is unset
        (PRODUCTION, False),
        ({**PRODUCTION, "metrics_token": ""}, False),
        ({**PRODUCTION, "metrics_token": METRICS_TOKEN}, True),
        ({**PRODUCTION, "metrics_enabled": "true"}, True),
        ({**PRODUCTION, "metrics_enabled": "false", "metrics_token": METRICS_TOKEN}, False),
    ],
    ids=[
        "development",
        "off",
        "empty",
        "production",
        "production-empty-token",
        "production-token",
        "production-on",
        "production-off-with-token",
    ],
)
def test_metrics_are_private_in_production_unless_configured(values, exposed):
    assert Settings(_env_file=None, **values).metrics_exposed is exposed


async def test_the_session_cache_is_counted_where_sessions_are_cached(api):
    """With Redis, a worker answers repeated session checks from memory: its hits and
    misses, its entries and whether it trusts them show. The embedded default caches
    nothing and shows none of it."""
    if not api.container.config.session_cache_ttl():
        assert "bookly_session_cache" not in await scrape(api)
        return
    await open_resources(api.container, serving=True)  # the listener, as `bookly serve` has it
    await eventually(lambda: api.container.session_cache().trusted, "the worker listens")
    await api.signup()
    headers = bearer((await api.login())["access_token"])
    for _ in range(2):  # the account reaches Redis, then this worker's memory
        assert (await api.client.get(ME, headers=headers)).status_code == 200
    before = await scrape(api)
    assert value(before, "bookly_session_cache_trusted") == 1
    assert value(before, "bookly_session_cache_entries") == 1
    for _ in range(3):
        assert (await api.client.get(ME, headers=headers)).status_code == 200
    after = await scrape(api)
    assert value(after, CACHE_HITS) == value(before, CACHE_HITS) + 3
    assert value(after, CACHE_MISSES) == value(before, CACHE_MISSES) >= 1


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, headers=headers or {}), timeout=10
        ) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_several_workers_add_up_to_one_count(tmp_path: Path):
    """`bookly serve --workers 2`: whichever worker answers a scrape reports the requests
    that both served (prometheus_client's multiprocess mode), and both workers' pools."""
    uid, asked = uuid.uuid4(), 0
    # Each worker's outbox relay polls through the same pool: only at start-up here, so a
    # connection it holds cannot show in the gauges read below.
    environment = service_environment(tmp_path, outbox_poll_seconds="3600")
    with live_service(environment, tmp_path, workers=2) as service:
        pool_size = 0.0
        while asked < 400 and pool_size < 20:  # until both workers have served a request
            for _ in range(20):
                assert get(f"{service.base_url}/api/v1/books/{uid}")[0] == 404
            asked += 20
            status, exposition = get(f"{service.base_url}/metrics")
            assert status == 200
            pool_size = value(exposition, "bookly_db_pool_size") or 0.0
        # A worker that has just started may still hold a connection for its relay's
        # first round: wait for that round to end (a leaked connection never would).
        deadline = time.monotonic() + 10
        while (
            value(get(f"{service.base_url}/metrics")[1], "bookly_db_pool_checked_out")
            and time.monotonic() < deadline
        ):
            time.sleep(0.1)
        scrapes = [get(f"{service.base_url}/metrics")[1] for _ in range(6)]
    assert pool_size == 20, "the requests never reached the second worker"
    book = {"method": "GET", "route": "/api/v1/books/{uid}", "status": "404"}
    for exposition in scrapes:
        assert value(exposition, REQUESTS, **book) == asked
        assert value(exposition, "bookly_db_pool_checked_out") == 0
        # This scrape, and perhaps the previous one: its worker may not have counted it
        # out yet when the other worker reads the shared files.
        assert value(exposition, "bookly_http_requests_in_flight") in (1, 2)
        assert str(uid) not in exposition


async def test_several_workers_report_their_session_caches_together(
    tmp_path: Path, redis_url: str, redis_prefix: str
):
    """`bookly serve --workers 2` with Redis: a scrape adds up both workers' cache lookups
    (counters kept in the shared folder) and counts the workers that trust their cache."""
    environment = service_environment(
        tmp_path, outbox_poll_seconds="3600", redis_url=redis_url, redis_key_prefix=redis_prefix
    )
    with live_service(environment, tmp_path, workers=2) as service:
        made = run_bookly(
            environment,
            "create-admin",
            "--email",
            "root@example.com",
            "--password-stdin",
            stdin=PASSWORD + "\n",
            cwd=tmp_path,
        )
        assert made.returncode == 0, made.stderr
        headers = bearer(log_in(service.base_url, "root@example.com", PASSWORD))
        asked, trusted = 0, 0.0
        while asked < 400 and trusted < 2:  # until both workers have answered from memory
            for _ in range(20):
                assert get(f"{service.base_url}{ME}", headers)[0] == 200
            asked += 20
            trusted = (
                value(get(f"{service.base_url}/metrics")[1], "bookly_session_cache_trusted") or 0.0
            )
        exposition = get(f"{service.base_url}/metrics")[1]
    assert trusted == 2, "the requests never reached the second worker"
    assert value(exposition, CACHE_HITS) + value(exposition, CACHE_MISSES) == asked
    assert value(exposition, CACHE_HITS) > 0
    assert value(exposition, "bookly_session_cache_entries") == 2  # the session, in each
