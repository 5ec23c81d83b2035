"""Every list over HTTP, page by page with cursors, on both configurations: the same items
in the same order as one long page, nothing twice while rows are added, a Link to the
next page, totals that say when they were only counted up to a bound, and hostile
cursors refused with 422 `invalid_cursor`."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import insert

from adapters.sqlalchemy.books import book_values
from adapters.sqlalchemy.tables import books
from application.ports.pages import COUNT_BOUND
from domain.books import Book
from tests.api.support import BODY, SECRET, bearer

API = "/api/v1"
BOOK = BODY  # a book every check accepts
SORTS = ["-created_at", "created_at", "title", "-title", "rating", "-rating"]


async def member(api, name: str, admin: bool = False) -> tuple[str, str]:
    """(access token, uid) of a verified account."""
    email = f"{name}@example.com"
    if admin:
        await api.container.create_admin().execute(email, "an admin passphrase", name)
        token = (await api.login(email, "an admin passphrase"))["access_token"]
    else:
        await api.signup(email, name)
        token = (await api.login(email))["access_token"]
    me = (await api.client.get(f"{API}/auth/me", headers=bearer(token))).json()
    return token, me["uid"]


async def stored_books(api, owner_uid: str, count: int, start: int = 0) -> list[Book]:
    """`count` books written straight to the database (ties on created_at, on purpose)."""
    origin = datetime(2020, 1, 1, tzinfo=UTC)
    made = [
        Book(
            uuid.uuid4(),
            uuid.UUID(owner_uid),
            f"Title {i % 7} {i:04d}",
            f"Author {i % 3}",
            "P",
            date(2000, 1, 1),
            10,
            ["en", "fr"][i % 2],
            origin + timedelta(minutes=i // 2),
            origin + timedelta(minutes=i // 2),
        )
        for i in range(start, start + count)
    ]
    async with api.container.engine().begin() as connection:
        await connection.execute(insert(books), [book_values(book) for book in made])
    return made


def uids(page: dict) -> list[str]:
    return [item["uid"] for item in page["items"]]


async def walk(api, path: str, params: dict, limit: int, headers=None) -> list[str]:
    """Every item of a list, following next_cursor from the first page (checking the
    Link header and that a page with a cursor is full on the way)."""
    seen: list[str] = []
    response = await api.client.get(path, params={**params, "limit": limit}, headers=headers)
    while True:
        assert response.status_code == 200, response.text
        page = response.json()
        seen += uids(page)
        cursor = page["next_cursor"]
        if cursor is None:
            assert "link" not in response.headers
            return seen
        assert len(page["items"]) == page["limit"]
        link = response.headers["link"]
        target, rel = link.split(";", 1)
        assert rel.strip() == 'rel="next"'
        url = urlsplit(target.strip("<> "))
        assert url.path == path and parse_qs(url.query) == {
            "cursor": [cursor],
            "limit": [str(page["limit"])],
        }
        limit = 3 if limit == 4 else 4  # the limit may change on the way
        response = await api.client.get(
            path, params={"cursor": cursor, "limit": limit}, headers=headers
        )
        assert response.json()["offset"] is None


async def test_cursors_walk_every_book_list_as_one_long_page_does(api):
    owner, owner_uid = await member(api, "owner")
    made = await stored_books(api, owner_uid, 23)
    reader, _ = await member(api, "reader")
    for book in made[:12]:  # some books rated (ties included), the others not
        rating = random.Random(book.uid.int).choice([2, 4, 4, 5])
        await api.client.post(
            f"{API}/books/{book.uid}/reviews",
            headers=bearer(reader),
            json={"rating": rating, "review_text": "x"},
        )
    for book in made[::3]:
        await api.client.post(
            f"{API}/books/{book.uid}/tags", headers=bearer(owner), json={"tags": [{"name": "Odd"}]}
        )
    lists = [(f"{API}/books", {"sort": sort}) for sort in SORTS] + [
        (f"{API}/books", {"tag": "odd", "sort": "-rating"}),
        (f"{API}/books", {"q": "title 3", "sort": "title"}),
        (f"{API}/books", {"language": "FR", "author": "author 1", "sort": "-title"}),
        (f"{API}/users/{owner_uid}/books", {"sort": "rating"}),
    ]
    for path, params in lists:
        whole = await api.client.get(path, params={**params, "limit": 100})
        assert whole.json()["next_cursor"] is None
        assert await walk(api, path, params, 4) == uids(whole.json()), (path, params)


async def test_cursors_walk_reviews_users_and_tags(api):
    admin, _ = await member(api, "root", admin=True)
    owner, _ = await member(api, "owner")
    book = (await api.client.post(f"{API}/books", json=BOOK, headers=bearer(owner))).json()
    readers = [await member(api, f"reader{i}") for i in range(9)]
    for token, _ in readers:
        await api.client.post(
            f"{API}/books/{book['uid']}/reviews",
            headers=bearer(token),
            json={"rating": 3, "review_text": "x"},
        )
    await api.client.post(
        f"{API}/books/{book['uid']}/tags",
        headers=bearer(owner),
        json={"tags": [{"name": f"tag {i}"} for i in range(9)]},
    )
    reader_uid = readers[0][1]
    for path, headers in [
        (f"{API}/books/{book['uid']}/reviews", None),
        (f"{API}/users/{reader_uid}/reviews", None),
        (f"{API}/reviews", bearer(admin)),
        (f"{API}/users", bearer(admin)),
        (f"{API}/tags", None),
    ]:
        whole = await api.client.get(path, params={"limit": 100}, headers=headers)
        assert await walk(api, path, {}, 4, headers) == uids(whole.json()), path


async def test_books_added_meanwhile_are_never_listed_twice(api):
    _, owner_uid = await member(api, "owner")
    await stored_books(api, owner_uid, 10)
    first = (await api.client.get(f"{API}/books", params={"limit": 4})).json()
    await stored_books(api, owner_uid, 5, start=100)  # newer than all: before page one
    rest = await walk_from(api, first["next_cursor"])
    assert set(rest).isdisjoint(uids(first)) and len(uids(first) + rest) == 10
    shifted = (await api.client.get(f"{API}/books", params={"limit": 4, "offset": 4})).json()
    assert set(uids(shifted)) & set(uids(first))  # an offset page would repeat some


async def walk_from(api, cursor: str | None) -> list[str]:
    seen: list[str] = []
    while cursor is not None:
        page = (await api.client.get(f"{API}/books", params={"cursor": cursor})).json()
        seen += uids(page)
        cursor = page["next_cursor"]
    return seen


async def test_totals_are_exact_where_kept_and_bounded_elsewhere(api):
    _, owner_uid = await member(api, "owner")
    await stored_books(api, owner_uid, COUNT_BOUND + 5)
    kept = (await api.client.get(f"{API}/books", params={"language": "fr"})).json()
    assert (kept["total"], kept["total_exact"]) == ((COUNT_BOUND + 5) // 2, True)
    everything = (await api.client.get(f"{API}/books", params={"limit": 1})).json()
    assert (everything["total"], everything["total_exact"]) == (COUNT_BOUND + 5, True)
    searched = (await api.client.get(f"{API}/books", params={"q": "title"})).json()
    assert (searched["total"], searched["total_exact"]) == (COUNT_BOUND, False)
    few = (await api.client.get(f"{API}/books", params={"q": "title 3 00"})).json()
    assert few["total_exact"] and few["total"] == len(few["items"]) > 0


@pytest.mark.parametrize(
    "change",
    [
        "forged",
        "truncated",
        "altered",
        "other list",
        "other filter",
        "other sort",
        "with offset",
        "other user",
        "other secret",
    ],
)
async def test_hostile_cursors_are_invalid(api, api_factory, change):
    _, owner_uid = await member(api, "owner")
    _, other_uid = await member(api, "other")
    await stored_books(api, owner_uid, 6)
    path, params = f"{API}/books", {"sort": "title", "language": "en", "limit": 1}
    cursor = (await api.client.get(path, params=params)).json()["next_cursor"]
    same = await api.client.get(path, params={"cursor": cursor, "sort": "title"})
    assert same.status_code == 200  # the cursor's own filter or sort may be sent again
    owned = f"{API}/users/{owner_uid}/books"
    owner_cursor = (await api.client.get(owned, params={"limit": 1})).json()["next_cursor"]
    request = {
        "forged": (path, {"cursor": "eyJsIjoiYm9va3MifQ.AAAA.BBBB"}),
        "truncated": (path, {"cursor": cursor[:-3]}),
        "altered": (path, {"cursor": cursor[:5] + ("A" if cursor[5] != "A" else "B") + cursor[6:]}),
        "other list": (f"{API}/tags", {"cursor": cursor}),
        "other filter": (path, {"cursor": cursor, "language": "fr"}),
        "other sort": (path, {"cursor": cursor, "sort": "-title"}),
        "with offset": (path, {"cursor": cursor, "offset": 2}),
        "other user": (f"{API}/users/{other_uid}/books", {"cursor": owner_cursor}),
    }
    if change == "other secret":
        async with api_factory(secret_key=SECRET[::-1]) as elsewhere:
            response = await elsewhere.client.get(path, params={"cursor": cursor})
    else:
        target, sent = request[change]
        response = await api.client.get(target, params=sent)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["error_code"] == "invalid_cursor"


async def test_paging_is_documented(api):
    schema = (await api.client.get(f"{API}/openapi.json")).json()
    operation = schema["paths"][f"{API}/books"]["get"]
    assert {"cursor", "limit", "offset"} <= {p["name"] for p in operation["parameters"]}
    assert "Link" in operation["responses"]["200"]["headers"]
    assert "invalid_cursor" in operation["responses"]["422"]["description"]
    page = schema["components"]["schemas"]["PageOut_BookOut_"]["properties"]
    assert {"next_cursor", "total_exact", "total", "offset"} <= set(page)
