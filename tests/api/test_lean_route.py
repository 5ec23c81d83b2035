"""`LeanRoute` answers exactly as FastAPI's own handler would, good queries and bad, and
the OpenAPI document does not change."""

from __future__ import annotations

import uuid

import pytest
from fastapi.routing import APIRoute, request_response

from entrypoints.http.lean_route import LeanRoute, lean_handler
from tests.api.conftest import bearer

pytestmark = pytest.mark.parametrize("configuration", ["embedded"])

QUERIES = [
    "", "limit=5", "limit=5&offset=1&sort=title", "sort=-rating&tag=fiction", "tag=FICTION",
    "q=river&author=ada%20writer&language=EN", f"owner_uid={uuid.uuid4()}", "tag=",
    "q=%F0%9F%93%9A", "limit=5&limit=2", "unknown=1&limit=3", "limit=%205",
    # bad ones: one error, several, repeated names whose last value is bad
    "limit=0", "limit=101", "limit=abc", "limit=", "limit=1.5", "offset=-1",
    "offset=1000000001", "sort=nope", "owner_uid=nope", "q=" + "x" * 201, "tag=a%00b",
    "language=" + "e" * 36, "limit=2&limit=x", "limit=abc&offset=-2&sort=z&owner_uid=1",
]


def the_list_route(app) -> APIRoute:
    return next(route for route in app.router.routes
                if getattr(route, "path", None) == "/api/v1/books"
                and getattr(route, "methods", None) == {"GET"})


async def answers(api, route: APIRoute) -> list[tuple[int, object]]:
    found = []
    for query in QUERIES:
        response = await api.client.get(f"/api/v1/books?{query}")
        body = response.json()
        if isinstance(body, dict):
            body.pop("request_id", None)
        found.append((response.status_code, body))
    return found


async def test_the_book_list_is_lean_and_answers_as_fastapi_does(api) -> None:
    await api.signup()
    token = (await api.login())["access_token"]
    for n, tags in enumerate((["Fiction"], ["fiction", "Poetry"], [])):
        response = await api.client.post("/api/v1/books", headers=bearer(token), json={
            "title": f"River {n}", "author": "Ada Writer", "publisher": "Press",
            "published_date": "2001-01-01", "page_count": 100 + n, "language": "en",
            "tags": tags})
        assert response.status_code == 201, response.text
    route = the_list_route(api.app)
    assert isinstance(route, LeanRoute)
    assert lean_handler(route.dependant, route.endpoint) is not None
    lean = await answers(api, route)
    lean_app = route.app
    route.app = request_response(APIRoute.get_route_handler(route))  # FastAPI's own
    try:
        assert await answers(api, route) == lean
    finally:
        route.app = lean_app
    statuses = [status for status, _ in lean]
    assert statuses.count(200) == 12 and statuses.count(422) == len(QUERIES) - 12
    assert lean[3][1]["total"] == 2 and lean[1][1]["limit"] == 5  # found what it should
    assert lean[-1][1]["error_code"] == "validation_error"
    assert len(lean[-1][1]["errors"]) == 4


async def test_routes_it_cannot_serve_as_fastapi_would_keep_fastapis_handler(api) -> None:
    kept = [route for route in api.app.router.routes
            if isinstance(route, LeanRoute) and route is not the_list_route(api.app)]
    assert kept  # the books router's other routes: path parameters, bodies, principals
    assert all(lean_handler(route.dependant, route.endpoint) is None for route in kept)
