"""Validators and conditional requests through the whole HTTP stack, on both
configurations: ETags on what GET answers, 304 for an unchanged copy, If-Match guarding
PATCH and DELETE, and caching headers that say who may keep an answer."""

from __future__ import annotations

import asyncio

from tests.api.support import BODY, admin_token, assert_problem, bearer, writer

BOOKS = "/api/v1/books"
ME = "/api/v1/auth/me"


async def new_book(api, token: str) -> str:
    return (await api.client.post(BOOKS, json=BODY, headers=bearer(token))).json()["uid"]


async def test_an_unchanged_book_is_a_304_and_a_review_changes_its_etag(api):
    token, _ = await writer(api)
    uid = await new_book(api, token)
    first = await api.client.get(f"{BOOKS}/{uid}")
    etag = first.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    again = await api.client.get(f"{BOOKS}/{uid}", headers={"If-None-Match": etag})
    assert (again.status_code, again.content) == (304, b"")
    assert again.headers["etag"] == etag and again.headers["cache-control"] == "public, no-cache"
    listed = await api.client.get(f"{BOOKS}?limit=5")
    page_etag = listed.headers["etag"]
    assert (
        await api.client.get(f"{BOOKS}?limit=5", headers={"If-None-Match": page_etag})
    ).status_code == 304

    review = {"rating": 4, "review_text": "Good."}
    assert (
        await api.client.post(f"{BOOKS}/{uid}/reviews", json=review, headers=bearer(token))
    ).status_code == 201
    changed = await api.client.get(f"{BOOKS}/{uid}", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    relisted = await api.client.get(f"{BOOKS}?limit=5", headers={"If-None-Match": page_etag})
    assert relisted.status_code == 200  # the page shows the book's figures


async def test_personal_answers_are_private_and_vary_by_token(api):
    token, _ = await writer(api)
    me = await api.client.get(ME, headers=bearer(token))
    assert me.headers["cache-control"] == "private, no-cache"
    assert me.headers["vary"] == "Authorization"
    again = await api.client.get(ME, headers={**bearer(token), "If-None-Match": me.headers["etag"]})
    assert again.status_code == 304
    tokens = await api.client.post(
        "/api/v1/auth/login", json={"email": "ada@example.com", "password": "correct horse battery"}
    )
    assert tokens.headers["cache-control"] == "no-store"  # kept as the route says
    assert "etag" not in tokens.headers


async def test_if_match_guards_a_patch_and_a_delete(api):
    token, _ = await writer(api)
    uid = await new_book(api, token)
    etag = (await api.client.get(f"{BOOKS}/{uid}")).headers["etag"]
    changed = await api.client.patch(
        f"{BOOKS}/{uid}", json={"title": "First"}, headers={**bearer(token), "If-Match": etag}
    )
    assert changed.status_code == 200
    stale = await api.client.patch(
        f"{BOOKS}/{uid}", json={"title": "Second"}, headers={**bearer(token), "If-Match": etag}
    )
    assert_problem(stale, 412, "precondition_failed")
    weak = await api.client.delete(
        f"{BOOKS}/{uid}", headers={**bearer(token), "If-Match": f"W/{etag}"}
    )
    assert_problem(weak, 412, "precondition_failed")
    deleted_stale = await api.client.delete(
        f"{BOOKS}/{uid}", headers={**bearer(token), "If-Match": etag}
    )
    assert_problem(deleted_stale, 412, "precondition_failed")
    book = await api.client.get(f"{BOOKS}/{uid}")
    assert book.json()["title"] == "First"  # nothing written by the refused ones
    current = book.headers["etag"]
    gone = await api.client.delete(
        f"{BOOKS}/{uid}", headers={**bearer(token), "If-Match": f'"x", {current}'}
    )
    assert gone.status_code == 204


async def test_of_two_patches_with_one_if_match_exactly_one_wins(api_factory):
    async with api_factory() as one, api_factory() as two:
        token, _ = await writer(one)
        uid = await new_book(one, token)
        etag = (await one.client.get(f"{BOOKS}/{uid}")).headers["etag"]
        answers = await asyncio.gather(
            *(
                worker.client.patch(
                    f"{BOOKS}/{uid}",
                    json={"title": title},
                    headers={**bearer(token), "If-Match": etag},
                )
                for worker, title in [(one, "By one"), (two, "By two")]
            )
        )
        statuses = sorted(answer.status_code for answer in answers)
        assert statuses == [200, 412]
        winner = next(answer for answer in answers if answer.status_code == 200)
        assert (await one.client.get(f"{BOOKS}/{uid}")).json()["title"] == winner.json()["title"]


async def test_a_stale_profile_change_is_refused(api):
    token, _ = await writer(api)
    etag = (await api.client.get(ME, headers=bearer(token))).headers["etag"]
    fresh = await api.client.patch(
        ME, json={"first_name": "Augusta"}, headers={**bearer(token), "If-Match": etag}
    )
    assert fresh.status_code == 200 and fresh.json()["first_name"] == "Augusta"
    stale = await api.client.patch(
        ME, json={"first_name": "Countess"}, headers={**bearer(token), "If-Match": etag}
    )
    assert_problem(stale, 412, "precondition_failed")
    assert (await api.client.get(ME, headers=bearer(token))).json()["first_name"] == "Augusta"


async def test_if_match_may_be_required(api_factory):
    async with api_factory(require_if_match=True) as api:
        token, _ = await writer(api)
        uid = await new_book(api, token)
        unconditional = await api.client.patch(
            f"{BOOKS}/{uid}", json={"title": "X"}, headers=bearer(token)
        )
        assert_problem(unconditional, 428, "precondition_required")
        assert (await api.client.get(f"{BOOKS}/{uid}")).json()["title"] == BODY["title"]
        anything = await api.client.delete(
            f"{BOOKS}/{uid}", headers={**bearer(token), "If-Match": "*"}
        )
        assert anything.status_code == 204


async def test_the_schema_documents_validators_and_preconditions(api):
    schema = (await api.client.get("/api/v1/openapi.json")).json()
    read = schema["paths"]["/api/v1/books/{uid}"]["get"]
    assert "If-None-Match" in [p["name"] for p in read["parameters"]]
    assert "304" in read["responses"] and "ETag" in read["responses"]["200"]["headers"]
    for path, method in [
        ("/api/v1/books/{uid}", "patch"),
        ("/api/v1/books/{uid}", "delete"),
        ("/api/v1/auth/me", "patch"),
        ("/api/v1/reviews/{uid}", "patch"),
        ("/api/v1/reviews/{uid}", "delete"),
        ("/api/v1/tags/{uid}", "patch"),
        ("/api/v1/tags/{uid}", "delete"),
    ]:
        operation = schema["paths"][path][method]
        assert "If-Match" in [p["name"] for p in operation["parameters"]], (path, method)
        assert {"412", "428"} <= set(operation["responses"]), (path, method)


async def test_if_match_guards_reviews_and_tags(api):
    token, _ = await writer(api)
    uid = await new_book(api, token)
    written = await api.client.post(
        f"{BOOKS}/{uid}/reviews", json={"rating": 3, "review_text": "Fine."}, headers=bearer(token)
    )
    review = f"/api/v1/reviews/{written.json()['uid']}"
    etag = (await api.client.get(review)).headers["etag"]
    edited = await api.client.patch(
        review, json={"rating": 5}, headers={**bearer(token), "If-Match": etag}
    )
    assert edited.status_code == 200
    stale = await api.client.delete(review, headers={**bearer(token), "If-Match": etag})
    assert_problem(stale, 412, "precondition_failed")
    assert (await api.client.get(review)).json()["rating"] == 5

    admin = await admin_token(api)
    made = await api.client.post("/api/v1/tags", json={"name": "Poetry"}, headers=bearer(admin))
    tag = made.headers["location"]
    shown = await api.client.get(tag)
    assert shown.json() == made.json()
    renamed = await api.client.patch(
        tag, json={"name": "Verse"}, headers={**bearer(admin), "If-Match": shown.headers["etag"]}
    )
    assert renamed.status_code == 200
    stale = await api.client.patch(
        tag, json={"name": "Rhyme"}, headers={**bearer(admin), "If-Match": shown.headers["etag"]}
    )
    assert_problem(stale, 412, "precondition_failed")
    current = (await api.client.get(tag)).headers["etag"]
    assert current != shown.headers["etag"]
    deleted = await api.client.delete(tag, headers={**bearer(admin), "If-Match": current})
    assert deleted.status_code == 204


async def test_each_resource_is_a_304_while_unchanged(api):
    token, _ = await writer(api)
    uid = await new_book(api, token)
    written = await api.client.post(
        f"{BOOKS}/{uid}/reviews", json={"rating": 4, "review_text": "Good."}, headers=bearer(token)
    )
    admin = await admin_token(api)
    tag = await api.client.post("/api/v1/tags", json={"name": "Essays"}, headers=bearer(admin))
    for path, headers, dated in [
        (f"{BOOKS}/{uid}", {}, True),
        (f"/api/v1/reviews/{written.json()['uid']}", {}, True),
        (tag.headers["location"], {}, False),
        (ME, bearer(token), True),
        ("/api/v1/tags", {}, False),
        (f"/api/v1/users/{written.json()['user_uid']}/reviews", {}, False),
    ]:
        first = await api.client.get(path, headers=headers)
        assert first.status_code == 200, path
        assert ("last-modified" in first.headers) is dated, path
        again = await api.client.get(
            path, headers={**headers, "If-None-Match": first.headers["etag"]}
        )
        assert (again.status_code, again.content) == (304, b""), path
        assert again.headers["etag"] == first.headers["etag"]
        if dated:
            assert again.headers["last-modified"] == first.headers["last-modified"]
