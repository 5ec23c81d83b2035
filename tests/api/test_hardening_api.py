"""Security headers, client addresses behind proxies, and what the logs may say."""

from __future__ import annotations

import gc
import json
import re

import pytest

from entrypoints.http.app import YOUNG_GENERATION_THRESHOLD
from tests.api.support import PASSWORD, bearer


async def test_security_headers_on_api_responses_and_problems(api):
    for response in (
        await api.client.get("/health"),
        await api.client.get("/api/v1/nowhere"),
        await api.client.get("/health", headers={"Host": "evil.example"}),
    ):
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["content-security-policy"].startswith("default-src 'none'")
        assert "strict-transport-security" not in headers  # development


async def test_docs_pages_get_a_csp_that_lets_them_run(api):
    docs = await api.client.get("/api/v1/docs")
    assert "script-src 'self'" in docs.headers["content-security-policy"]


@pytest.mark.parametrize("configuration", ["production"])
async def test_hsts_in_production(api_factory):
    async with api_factory(env="production") as api:
        hsts = (await api.client.get("/health")).headers["strict-transport-security"]
        assert hsts.startswith("max-age=31536000")


async def test_forwarded_addresses_count_only_behind_trusted_proxies(api_factory):
    body = {"email": "ada@example.com"}
    async with api_factory(ip_rate_limit=2) as api:
        statuses = [
            (
                await api.client.post(
                    "/api/v1/auth/verify/resend",
                    json=body,
                    headers={"X-Forwarded-For": f"203.0.113.{i}"},
                )
            ).status_code
            for i in range(3)
        ]
        assert statuses == [202, 202, 429]  # a client cannot dodge limits by forging it
    async with api_factory(ip_rate_limit=2, trusted_proxies=["127.0.0.1"]) as api:
        statuses = [
            (
                await api.client.post(
                    "/api/v1/auth/verify/resend",
                    json=body,
                    headers={"X-Forwarded-For": f"203.0.113.{i}, 127.0.0.1"},
                )
            ).status_code
            for i in range(3)
        ]
        assert statuses == [202, 202, 202]


@pytest.mark.parametrize("configuration", ["production"])
async def test_one_json_line_per_request_and_no_secrets_in_logs(api_factory, capsys):
    # The service writes its log lines to standard error: Bookly's own events directly,
    # the libraries' through the logging handler it installs (both captured here).
    capsys.readouterr()
    async with api_factory(env="production") as api:
        await api.signup()
        pair = await api.login()
        await api.client.post(
            "/api/v1/auth/password-reset-request", json={"email": "ada@example.com"}
        )
        reset = await api.link("ada@example.com", "Reset")
        await api.client.post(
            f"/api/v1/auth/password-reset-confirm/{reset}",
            json={
                "new_password": "another good passphrase",
                "confirm_new_password": "another good passphrase",
            },
        )
        failed = await api.client.post(
            "/api/v1/auth/refresh", headers=bearer(pair["refresh_token"])
        )
        assert failed.status_code == 401
        me = await api.client.get("/api/v1/auth/me", headers={"X-Request-ID": "trace-me-1"})
    logged = capsys.readouterr().err
    # The test's own HTTP client (httpx) logs the URLs it calls; only the service's count.
    text = "\n".join(
        line
        for line in logged.splitlines()
        if not line.startswith("{") or json.loads(line)["logger"] != "httpx"
    )
    secrets = [
        PASSWORD,
        "another good passphrase",
        pair["access_token"],
        pair["refresh_token"],
        reset,
        api.settings.secret_key,
    ]
    for secret in secrets:
        assert secret not in text
    assert not re.search(r"\$argon2id\$", text)
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line.get("event") == "request"]
    assert len(requests) == 7  # signup, verify, login, reset request, confirm, refresh, me
    traced = [line for line in requests if line["request_id"] == "trace-me-1"]
    assert traced and traced[0]["path"] == "/api/v1/auth/me"
    assert me.headers["x-request-id"] == "trace-me-1"
    assert {"method", "path", "status", "duration_ms", "request_id"} <= set(requests[0])


@pytest.mark.parametrize("configuration", ["embedded"])
async def test_start_up_freezes_what_it_made_out_of_the_collectors_reach(api):
    # Full collections walk every tracked object; start-up's live as long as the process,
    # so the lifespan freezes them (else: ~100 ms pauses every few seconds under load).
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        async with api.app.router.lifespan_context(api.app):
            assert gc.get_freeze_count() > 10_000  # the modules, routes, schemas, container
            garbage = [[]]
            garbage[0].append(garbage)  # a cycle made after start-up
            del garbage
            frozen = gc.get_freeze_count()  # the background work may free a frozen object
            assert gc.collect() >= 1  # is still collected
            assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


@pytest.mark.parametrize("configuration", ["embedded"])
async def test_while_serving_the_young_generation_is_collected_less_often(api):
    # Objects of requests in flight would otherwise be promoted and walked, dead, by the
    # old generations' collections; the process's own thresholds come back at shutdown.
    before = gc.get_threshold()
    try:
        async with api.app.router.lifespan_context(api.app):
            assert gc.get_threshold() == (YOUNG_GENERATION_THRESHOLD, *before[1:])
            assert before[0] < YOUNG_GENERATION_THRESHOLD
        assert gc.get_threshold() == before
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
