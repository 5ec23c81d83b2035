"""The "Conventions" and "Operations" sections of the contract."""

from __future__ import annotations

import pytest
from dependency_injector import providers

from tests.api.support import PASSWORD, assert_problem


async def test_health_and_ready(api):
    assert (await api.client.get("/health")).json() == {"status": "ok"}
    ready = await api.client.get("/ready")
    assert ready.status_code == 200
    expected = {"database"} | ({"redis"} if api.settings.redis_url else set())
    assert set(ready.json()["checks"]) == expected


async def test_request_ids_are_echoed_when_sane_and_made_otherwise(api):
    sane = await api.client.get("/health", headers={"X-Request-ID": "abc-123.x"})
    assert sane.headers["x-request-id"] == "abc-123.x"
    for bad in ("has space", "x" * 200, "<script>"):
        response = await api.client.get("/health", headers={"X-Request-ID": bad})
        assert response.headers["x-request-id"] != bad
        assert len(response.headers["x-request-id"]) == 32


async def test_a_405_names_exactly_the_methods_served_at_that_path(api):
    book = "/api/v1/books/00000000-0000-0000-0000-000000000000"
    for method, path, allowed in [
        ("DELETE", "/api/v1/auth/me", "GET, PATCH"),
        ("PUT", book, "DELETE, GET, PATCH"),
        ("PUT", "/api/v1/auth/login", "POST"),
        # concrete before templated, as OpenAPI matches paths
        ("PUT", "/api/v1/auth/verify/resend", "POST"),
        ("PUT", "/api/v1/auth/verify/some-token", "GET"),
    ]:
        response = await api.client.request(method, path)
        assert_problem(response, 405, "method_not_allowed")
        assert response.headers["allow"] == allowed, (method, path)


async def test_framework_errors_are_problems(api):
    assert_problem(await api.client.get("/api/v1/nothing-here"), 404, "not_found")
    assert_problem(await api.client.put("/api/v1/auth/login"), 405, "method_not_allowed")
    big = await api.client.post(
        "/api/v1/auth/login",
        content=b"{" + b" " * 2_000_000 + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert_problem(big, 413, "payload_too_large")
    for content, kind in [
        (b"{not json", "application/json"),
        (b"email=a", "text/plain"),
        (b"[1, 2]", "application/json"),
    ]:
        response = await api.client.post(
            "/api/v1/auth/login", content=content, headers={"Content-Type": kind}
        )
        body = assert_problem(response, 422, "validation_error")
        assert body["errors"]


async def test_a_body_without_content_length_is_counted(api):
    async def chunks():
        for _ in range(40):
            yield b" " * 65_536

    response = await api.client.post(
        "/api/v1/auth/login", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 413, "payload_too_large")


async def test_unknown_hosts_are_refused(api):
    response = await api.client.get("/health", headers={"Host": "evil.example"})
    assert_problem(response, 400, "invalid_host")


# Served when the Host header was split at its last colon rather than parsed.
HOST_BYPASSES = ["127.0.0.1:80.evil.example", "localhost:8899@evil.example"]
MALFORMED_HOSTS = [
    *HOST_BYPASSES,
    "localhost:80:80",
    "localhost:http",
    "local host",
    ":8000",
    "localhost:65536",
    "[::1]x",
    "[::1%eth0]:8000",
    "127.0.0.1/x",
    "",
]


async def test_host_headers_are_parsed_not_split(api_factory):
    allowed = ["localhost", "127.0.0.1", "[::1]:8000", "api.example.com:8443"]
    async with api_factory(allowed_hosts=allowed) as api:
        for host in [
            *MALFORMED_HOSTS,
            "[::1]:8001",
            "[::1]",
            "api.example.com:443",
            "api.example.com",
            "evil.example:8000",
        ]:
            response = await api.client.get("/health", headers={"Host": host})
            assert_problem(response, 400, "invalid_host")
        for host in [
            "127.0.0.1:8000",
            "localhost",
            "LocalHost.:8000",
            "localhost:",
            "[::1]:8000",
            "[0:0::1]:8000",
            "api.example.com:8443",
        ]:
            response = await api.client.get("/health", headers={"Host": host})
            assert response.status_code == 200, host
        twice = await api.client.get(
            "/health", headers=[("Host", "localhost"), ("Host", "evil.example")]
        )
        assert_problem(twice, 400, "invalid_host")


async def test_any_host_still_needs_a_well_formed_host_header(api_factory):
    async with api_factory(allowed_hosts=["*"]) as api:
        assert (
            await api.client.get("/health", headers={"Host": "evil.example"})
        ).status_code == 200
        for host in MALFORMED_HOSTS:
            response = await api.client.get("/health", headers={"Host": host})
            assert_problem(response, 400, "invalid_host")


async def test_nul_bytes_and_huge_numbers_are_validation_errors(api):
    for body in (
        {
            "email": "a\x00@example.com",
            "username": "ada",
            "first_name": "A",
            "last_name": "B",
            "password": PASSWORD,
        },
        {
            "email": "ada@example.com",
            "username": "ada",
            "first_name": 10**400,
            "last_name": "B",
            "password": PASSWORD,
        },
    ):
        response = await api.client.post("/api/v1/auth/signup", json=body)
        assert_problem(response, 422, "validation_error")


async def test_unexpected_failures_are_500_problems_without_details(api):
    class Broken:
        async def execute(self, *args):
            raise RuntimeError("secret internal detail")

    with api.container.resend_verification.override(providers.Object(Broken())):
        response = await api.client.post(
            "/api/v1/auth/verify/resend", json={"email": "ada@example.com"}
        )
    body = assert_problem(response, 500, "server_error")
    assert "secret internal detail" not in response.text and "Traceback" not in body["detail"]


async def test_openapi_documents_the_oauth2_password_flow(api):
    schema = (await api.client.get("/api/v1/openapi.json")).json()
    flows = [s["flows"] for s in schema["components"]["securitySchemes"].values()]
    assert flows == [{"password": {"scopes": {}, "tokenUrl": "/api/v1/auth/token"}}]
    login = schema["paths"]["/api/v1/auth/login"]["post"]["responses"]
    assert "application/problem+json" in login["401"]["content"]
    for page in ("/api/v1/docs", "/api/v1/redoc"):
        assert (await api.client.get(page)).status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/auth/signup", "/api/v1/auth/password-reset-request"])
async def test_requests_per_client_ip_are_limited(api_factory, path):
    async with api_factory(ip_rate_limit=3) as api:

        def body(n: int) -> dict[str, str]:
            if not path.endswith("signup"):
                return {"email": "ada@example.com"}
            return {
                "email": "ada@example.com",
                "username": f"ada{n}",
                "first_name": "A",
                "last_name": "B",
                "password": PASSWORD,
            }

        statuses = [(await api.client.post(path, json=body(n))).status_code for n in range(4)]
        assert statuses[:3] == [202] * 3
        limited = await api.client.post(path, json=body(5))
        assert_problem(limited, 429, "too_many_requests")
        assert int(limited.headers["retry-after"]) >= 1


async def test_rate_limits_can_be_switched_off(api_factory):
    async with api_factory(ip_rate_limit=1, rate_limits_enabled=False) as api:
        for _ in range(3):
            response = await api.client.post(
                "/api/v1/auth/verify/resend", json={"email": "ada@example.com"}
            )
            assert response.status_code == 202
