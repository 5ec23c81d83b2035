"""CORS: an allowed origin's preflight gets Starlette's headers; a refused one a problem."""

from __future__ import annotations

from tests.api.support import assert_problem

ORIGIN = "https://app.example.com"
ME = "/api/v1/auth/me"


def preflight(origin: str, method: str = "GET", headers: str | None = None) -> dict[str, str]:
    asked = {"Origin": origin, "Access-Control-Request-Method": method}
    return asked | ({"Access-Control-Request-Headers": headers} if headers else {})


async def test_an_allowed_preflight_gets_the_cors_headers(api_factory):
    async with api_factory(cors_origins=[ORIGIN]) as api:
        response = await api.client.options(
            ME, headers=preflight(ORIGIN, "PATCH", "Authorization, Content-Type")
        )
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == ORIGIN
        assert "PATCH" in response.headers["access-control-allow-methods"]
        assert "Authorization" in response.headers["access-control-allow-headers"]
        assert response.headers["access-control-allow-credentials"] == "true"
        simple = await api.client.get("/health", headers={"Origin": ORIGIN})
        assert simple.headers["access-control-allow-origin"] == ORIGIN
        assert "X-Request-ID" in simple.headers["access-control-expose-headers"]


async def test_a_browser_may_send_an_idempotency_key_and_read_the_replay_mark(api_factory):
    async with api_factory(cors_origins=[ORIGIN]) as api:
        response = await api.client.options(
            "/api/v1/books", headers=preflight(ORIGIN, "POST", "Authorization, Idempotency-Key")
        )
        assert response.status_code == 200
        assert "Idempotency-Key" in response.headers["access-control-allow-headers"]
        simple = await api.client.get("/health", headers={"Origin": ORIGIN})
        exposed = simple.headers["access-control-expose-headers"]
        assert "Idempotent-Replayed" in exposed and "Location" in exposed


async def test_a_refused_preflight_is_a_problem(api_factory):
    async with api_factory(cors_origins=[ORIGIN]) as api:
        for asked, refused in [
            (preflight("https://evil.example"), "origin"),
            (preflight(ORIGIN, "GET", "X-Secret"), "headers"),
            (preflight("https://evil.example", "GET", "X-Secret"), "origin, headers"),
        ]:
            response = await api.client.options(ME, headers=asked)
            body = assert_problem(response, 400, "cors_not_allowed")
            assert body["detail"].endswith(f"its {refused}.")
            assert body["instance"] == ME
            assert "PATCH" in response.headers["access-control-allow-methods"]  # kept
            assert response.headers["vary"].startswith("Origin")
            assert response.headers["x-content-type-options"] == "nosniff"
        assert "access-control-allow-origin" not in response.headers
        schema = (await api.client.get("/api/v1/openapi.json")).text
        assert "cors_not_allowed" in schema
