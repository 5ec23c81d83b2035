"""The catalogue over HTTP, on both configurations."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert

from adapters.sqlalchemy.books import book_values
from adapters.sqlalchemy.tables import books
from domain.books import Book
from tests.api.support import BODY, bearer, statements_counted, writer

BOOKS = "/api/v1/books"


async def test_add_read_change_delete(api):
    token, uid = await writer(api)
    created = await api.client.post(BOOKS, json=BODY, headers=bearer(token))
    assert created.status_code == 201
    book = created.json()
    assert created.headers["location"] == f"{BOOKS}/{book['uid']}"
    assert book["owner_uid"] == uid
    assert (book["tags"], book["review_count"], book["average_rating"]) == ([], 0, None)
    detail = (await api.client.get(f"{BOOKS}/{book['uid']}")).json()
    assert detail["reviews"] == [] and detail["title"] == "Dune"

    patched = await api.client.patch(
        f"{BOOKS}/{book['uid']}", json={"title": "x"}, headers=bearer(token)
    )
    after = patched.json()
    assert patched.status_code == 200
    assert {k: v for k, v in after.items() if k not in ("title", "updated_at")} == {
        k: v for k, v in book.items() if k not in ("title", "updated_at")
    }
    assert after["title"] == "x" and after["updated_at"] > book["updated_at"]
    assert after["created_at"] == book["created_at"]

    assert (
        await api.client.delete(f"{BOOKS}/{book['uid']}", headers=bearer(token))
    ).status_code == 204
    gone = await api.client.get(f"{BOOKS}/{book['uid']}")
    assert (gone.status_code, gone.json()["error_code"]) == (404, "book_not_found")


async def test_who_may_write(api):
    owner, _ = await writer(api)
    other, _ = await writer(api, "bob@example.com", "bob")
    unverified, _ = await writer(api, "new@example.com", "newbie", verify=False)
    book = (await api.client.post(BOOKS, json=BODY, headers=bearer(owner))).json()
    url = f"{BOOKS}/{book['uid']}"
    for response in (
        await api.client.patch(url, json={"title": "y"}, headers=bearer(other)),
        await api.client.delete(url, headers=bearer(other)),
    ):
        assert (response.status_code, response.json()["error_code"]) == (
            403,
            "insufficient_permissions",
        )
    refused = await api.client.post(BOOKS, json=BODY, headers=bearer(unverified))
    assert (refused.status_code, refused.json()["error_code"]) == (403, "account_not_verified")
    anonymous = await api.client.post(BOOKS, json=BODY)
    assert (anonymous.status_code, anonymous.json()["error_code"]) == (401, "not_authenticated")
    missing = await api.client.patch(
        f"{BOOKS}/{uuid.uuid4()}", json={"title": "z"}, headers=bearer(owner)
    )
    assert missing.status_code == 404
    assert (await api.client.get(url)).json()["title"] == "Dune"


@pytest.mark.parametrize(
    "bad",
    [
        {"page_count": 0},
        {"page_count": "many"},
        {"page_count": 10**30},
        {"published_date": "2023-02-30"},
        {"title": ""},
        {"title": "x" * 256},
        {"language": "english"},
        {"isbn": "123"},
        {"title": None},
    ],
)
async def test_bad_books_are_refused_and_nothing_is_written(api, bad):
    token, _ = await writer(api)
    response = await api.client.post(BOOKS, json={**BODY, **bad}, headers=bearer(token))
    assert (response.status_code, response.json()["error_code"]) == (422, "validation_error")
    assert (await api.client.get(BOOKS)).json()["total"] == 0


async def test_control_characters_are_refused_not_trimmed(api):
    """A leading tab or CR is how a CSV cell hides a formula: "\t=x" must not become "=x"."""
    token, uid = await writer(api)
    for field in ("title", "author", "publisher"):
        for text in ("\t=x", "=x\r", "\r@x", "a\x85b", "a\x7fb"):
            response = await api.client.post(
                BOOKS, json={**BODY, field: text}, headers=bearer(token)
            )
            assert (response.status_code, response.json()["error_code"]) == (
                422,
                "validation_error",
            ), (field, text)
    assert (await api.client.get(BOOKS)).json()["total"] == 0
    book = (
        await api.client.post(BOOKS, json={**BODY, "title": " \u3000Dune "}, headers=bearer(token))
    ).json()
    assert book["title"] == "Dune"  # white space that is no control is still trimmed
    patched = await api.client.patch(
        f"{BOOKS}/{book['uid']}", json={"title": "\t=x"}, headers=bearer(token)
    )
    assert patched.status_code == 422
    renamed = await api.client.patch(
        "/api/v1/auth/me", json={"first_name": "\t=x"}, headers=bearer(token)
    )
    assert renamed.status_code == 422
    assert (await api.client.get(f"/api/v1/users/{uid}", headers=bearer(token))).json()[
        "first_name"
    ] == "Ada"


async def test_patch_refuses_nulls_and_unknown_fields(api):
    token, _ = await writer(api)
    book = (await api.client.post(BOOKS, json=BODY, headers=bearer(token))).json()
    for body in ({"title": None}, {"owner_uid": str(uuid.uuid4())}, {"page_count": -1}):
        response = await api.client.patch(
            f"{BOOKS}/{book['uid']}", json=body, headers=bearer(token)
        )
        assert response.status_code == 422
    assert (await api.client.get(f"{BOOKS}/{book['uid']}")).json()["title"] == "Dune"


async def test_user_books_and_unknown_users(api):
    token, uid = await writer(api)
    await api.client.post(BOOKS, json=BODY, headers=bearer(token))
    page = (await api.client.get(f"/api/v1/users/{uid}/books")).json()
    assert (page["total"], page["limit"], page["offset"]) == (1, 20, 0)
    missing = await api.client.get(f"/api/v1/users/{uuid.uuid4()}/books")
    assert (missing.status_code, missing.json()["error_code"]) == (404, "user_not_found")


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"sort": "rating!"}, {"owner_uid": "nope"}],
)
async def test_bad_list_parameters(api, params):
    response = await api.client.get(BOOKS, params=params)
    assert (response.status_code, response.json()["error_code"]) == (422, "validation_error")


async def load_books(api, owner_uid: str, count: int) -> list[Book]:
    start = datetime(2020, 1, 1, tzinfo=UTC)
    made = []
    for i in range(count):
        moment = start + timedelta(minutes=i // 3)  # ties on created_at, on purpose
        made.append(
            Book(
                uuid.uuid4(),
                uuid.UUID(owner_uid),
                f"Title {i:05d} {'Ünïcode' * (i % 2)}",
                f"Author {i % 50}",
                "P",
                date(2000, 1, 1),
                100 + i % 7,
                ["en", "fr", "de"][i % 3],
                moment,
                moment,
            )
        )
    async with api.container.engine().begin() as connection:
        await connection.execute(insert(books), [book_values(b) for b in made])
    return made


async def test_ten_thousand_books_page_quickly_and_stably(api):
    _, uid = await writer(api)
    made = await load_books(api, uid, 10_000)
    first = (await api.client.get(BOOKS)).json()
    again = (await api.client.get(BOOKS)).json()
    assert first == again and first["total"] == 10_000 and len(first["items"]) == 20
    newest = sorted(made, key=lambda b: (b.created_at, b.uid), reverse=True)[:20]
    assert [b["uid"] for b in first["items"]] == [str(b.uid) for b in newest]
    params = {
        "q": "üNÏ",
        "author": "author 7",
        "language": "fr",
        "owner_uid": uid,
        "sort": "title",
        "limit": 5,
        "offset": 2,
    }
    page = (await api.client.get(BOOKS, params=params)).json()
    expected = sorted(
        (
            b
            for b in made
            if "ünïcode" in b.title.casefold() and b.author == "Author 7" and b.language == "fr"
        ),
        key=lambda b: (b.title.casefold(), b.uid),
    )
    assert page["total"] == len(expected) > 0
    assert [b["uid"] for b in page["items"]] == [str(b.uid) for b in expected[2:7]]


async def test_statements_per_list_page_do_not_grow_with_its_size(api):
    _, uid = await writer(api)
    await load_books(api, uid, 150)
    await api.client.get(BOOKS)  # a connection's first read also learns the row types
    counts = []
    for limit in (1, 20, 100):
        with statements_counted(api) as sent:
            assert (
                len((await api.client.get(BOOKS, params={"limit": limit})).json()["items"]) == limit
            )
            counts.append(sent())
    assert counts == [1, 1, 1]  # page, total and tags in one statement, on either database


async def test_percent_and_underscore_are_literal(api):
    token, _ = await writer(api)
    for title in ("100% Pure", "1000 Purr", "snake_case", "snakeXcase"):
        await api.client.post(BOOKS, json={**BODY, "title": title}, headers=bearer(token))
    for q, expected in (("0%", ["100% Pure"]), ("e_c", ["snake_case"])):
        page = (await api.client.get(BOOKS, params={"q": q})).json()
        assert [b["title"] for b in page["items"]] == expected


async def test_a_bad_language_tag_is_explained_in_the_rules_own_words(api):
    """The client reads the domain's rule, not the text of a pattern."""
    token, _ = await writer(api)
    response = await api.client.post(
        BOOKS, json={**BODY, "language": "English"}, headers=bearer(token)
    )
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert (error["loc"], error["msg"]) == (
        ["body", "language"],
        "A language tag such as 'en' or 'pt-br'.",
    )
