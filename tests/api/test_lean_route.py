"""`LeanRoute` answers exactly as FastAPI's own handler would, good queries and bad, and
the OpenAPI document does not change."""

from __future__ import annotations

import uuid

import pytest
from fastapi.routing import APIRoute, request_response

from entrypoints.http.lean_route import LeanRoute, lean_handler
from tests.api.test_books_api import writer
from tests.api.test_reviews_tags_api import book_of

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


def the_route(app, path: str = "/api/v1/books") -> APIRoute:
    return next(route for route in app.router.routes
                if getattr(route, "path", None) == path
                and getattr(route, "methods", None) == {"GET"})


async def answers(api, urls: list[str]) -> list[tuple[int, object]]:
    found = []
    for url in urls:
        response = await api.client.get(url)
        body = response.json()
        if isinstance(body, dict):
            body.pop("request_id", None)
        found.append((response.status_code, body))
    return found


async def lean_and_fastapis(api, route: APIRoute, urls: list[str]):
    """What the app answers at `urls` with the route's lean handler, then with FastAPI's."""
    assert isinstance(route, LeanRoute)
    assert lean_handler(route.dependant, route.endpoint) is not None
    lean, lean_app = await answers(api, urls), route.app
    route.app = request_response(APIRoute.get_route_handler(route))  # FastAPI's own
    try:
        return lean, await answers(api, urls)
    finally:
        route.app = lean_app


async def add_books(api) -> list[str]:
    token, _ = await writer(api)
    return [(await book_of(api, token, title=f"River {n}", author="Ada Writer", tags=tags))["uid"]
            for n, tags in enumerate((["Fiction"], ["fiction", "Poetry"], []))]


async def test_the_book_list_is_lean_and_answers_as_fastapi_does(api) -> None:
    await add_books(api)
    lean, fastapis = await lean_and_fastapis(
        api, the_route(api.app), [f"/api/v1/books?{query}" for query in QUERIES])
    assert lean == fastapis
    statuses = [status for status, _ in lean]
    assert statuses.count(200) == 12 and statuses.count(422) == len(QUERIES) - 12
    assert lean[3][1]["total"] == 2 and lean[1][1]["limit"] == 5  # found what it should
    assert lean[-1][1]["error_code"] == "validation_error"
    assert len(lean[-1][1]["errors"]) == 4


async def test_a_book_is_lean_and_answers_as_fastapi_does(api) -> None:
    uid = (await add_books(api))[1]
    urls = [f"/api/v1/books/{uid}", f"/api/v1/books/{uid.upper()}", f"/api/v1/books/{uid}?x=1",
            f"/api/v1/books/{uuid.uuid4()}", "/api/v1/books/nope", "/api/v1/books/123",
            f"/api/v1/books/{uid}0", "/api/v1/books/%00"]
    lean, fastapis = await lean_and_fastapis(
        api, the_route(api.app, "/api/v1/books/{uid}"), urls)
    assert lean == fastapis
    assert [status for status, _ in lean] == [200, 200, 200, 404, 422, 422, 422, 422]
    assert lean[0][1]["uid"] == uid and len(lean[0][1]["tags"]) == 2
    assert lean[4][1]["errors"][0]["loc"] == ["path", "uid"]


async def test_routes_it_cannot_serve_as_fastapi_would_keep_fastapis_handler(api) -> None:
    served = [the_route(api.app), the_route(api.app, "/api/v1/books/{uid}")]
    kept = [route for route in api.app.router.routes
            if isinstance(route, LeanRoute) and all(route is not s for s in served)]
    assert kept  # the books router's other routes: path parameters, bodies, principals
    assert all(lean_handler(route.dependant, route.endpoint) is None for route in kept)
