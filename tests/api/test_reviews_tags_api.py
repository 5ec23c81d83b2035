"""Reviews and tags over HTTP, on both configurations."""

from __future__ import annotations

import asyncio
import random
import uuid

from tests.api.support import BODY, PASSWORD, admin_token, bearer, statements_counted, writer

BOOKS = "/api/v1/books"


async def book_of(api, token, **extra) -> dict:
    response = await api.client.post(BOOKS, json={**BODY, **extra}, headers=bearer(token))
    assert response.status_code == 201, response.text
    return response.json()


async def test_review_life_cycle(api):
    owner, _ = await writer(api)
    reader, reader_uid = await writer(api, "bob@example.com", "bob")
    book = await book_of(api, owner)
    url = f"{BOOKS}/{book['uid']}/reviews"
    created = await api.client.post(
        url, json={"rating": 5, "review_text": "Superb"}, headers=bearer(reader)
    )
    assert created.status_code == 201
    review = created.json()
    assert set(review) == {
        "uid",
        "book_uid",
        "user_uid",
        "rating",
        "review_text",
        "created_at",
        "updated_at",
    }
    assert (review["user_uid"], review["book_uid"]) == (reader_uid, book["uid"])
    again = await api.client.post(
        url, json={"rating": 4, "review_text": "again"}, headers=bearer(reader)
    )
    assert (again.status_code, again.json()["error_code"]) == (409, "review_exists")

    detail = (await api.client.get(f"{BOOKS}/{book['uid']}")).json()
    assert (detail["review_count"], detail["average_rating"]) == (1, 5.0)
    assert [r["uid"] for r in detail["reviews"]] == [review["uid"]]

    patched = await api.client.patch(
        f"/api/v1/reviews/{review['uid']}", json={"rating": 3}, headers=bearer(reader)
    )
    assert patched.json()["rating"] == 3 and patched.json()["review_text"] == "Superb"
    refused = await api.client.patch(
        f"/api/v1/reviews/{review['uid']}", json={"rating": 1}, headers=bearer(owner)
    )
    assert (refused.status_code, refused.json()["error_code"]) == (403, "insufficient_permissions")
    assert (await api.client.get(f"/api/v1/users/{reader_uid}/reviews")).json()["total"] == 1
    assert (
        await api.client.delete(f"/api/v1/reviews/{review['uid']}", headers=bearer(reader))
    ).status_code == 204
    gone = await api.client.get(f"/api/v1/reviews/{review['uid']}")
    assert (gone.status_code, gone.json()["error_code"]) == (404, "review_not_found")
    detail = (await api.client.get(f"{BOOKS}/{book['uid']}")).json()
    assert (detail["review_count"], detail["average_rating"]) == (0, None)


async def test_ratings_out_of_range_or_of_the_wrong_type_are_refused(api):
    owner, _ = await writer(api)
    book = await book_of(api, owner)
    url = f"{BOOKS}/{book['uid']}/reviews"
    for rating in (0, 6, "5", 4.5, None, True):
        response = await api.client.post(
            url, json={"rating": rating, "review_text": "x"}, headers=bearer(owner)
        )
        assert (response.status_code, response.json()["error_code"]) == (422, "validation_error")
    five = await api.client.post(url, json={"rating": 5, "review_text": "x"}, headers=bearer(owner))
    assert five.status_code == 201
    missing = await api.client.post(
        f"{BOOKS}/{uuid.uuid4()}/reviews",
        json={"rating": 5, "review_text": "x"},
        headers=bearer(owner),
    )
    assert (missing.status_code, missing.json()["error_code"]) == (404, "book_not_found")


async def test_only_admins_list_every_review_and_admins_delete_any(api):
    owner, _ = await writer(api)
    book = await book_of(api, owner)
    review = (
        await api.client.post(
            f"{BOOKS}/{book['uid']}/reviews",
            json={"rating": 2, "review_text": "meh"},
            headers=bearer(owner),
        )
    ).json()
    refused = await api.client.get("/api/v1/reviews", headers=bearer(owner))
    assert (refused.status_code, refused.json()["error_code"]) == (403, "insufficient_permissions")
    root = await admin_token(api)
    assert (await api.client.get("/api/v1/reviews", headers=bearer(root))).json()["total"] == 1
    assert (
        await api.client.delete(f"/api/v1/reviews/{review['uid']}", headers=bearer(root))
    ).status_code == 204


async def test_tags_by_admins_and_on_books_by_owners(api):
    owner, _ = await writer(api)
    other, _ = await writer(api, "bob@example.com", "bob")
    root = await admin_token(api)
    created = await api.client.post("/api/v1/tags", json={"name": "Poetry"}, headers=bearer(root))
    assert created.status_code == 201
    clash = await api.client.post("/api/v1/tags", json={"name": "POETRY"}, headers=bearer(root))
    assert (clash.status_code, clash.json()["error_code"]) == (409, "tag_exists")
    refused = await api.client.post("/api/v1/tags", json={"name": "Drama"}, headers=bearer(owner))
    assert (refused.status_code, refused.json()["error_code"]) == (403, "insufficient_permissions")

    book = await book_of(api, owner, tags=["sci-fi"])
    assert [t["name"] for t in book["tags"]] == ["sci-fi"]
    tagged = await api.client.post(
        f"{BOOKS}/{book['uid']}/tags",
        json={"tags": [{"name": "poetry"}, {"name": "SCI-FI"}]},
        headers=bearer(owner),
    )
    assert [t["name"] for t in tagged.json()["tags"]] == ["Poetry", "sci-fi"]
    foreign = await api.client.post(
        f"{BOOKS}/{book['uid']}/tags", json={"tags": [{"name": "x"}]}, headers=bearer(other)
    )
    assert foreign.status_code == 403
    poetry = tagged.json()["tags"][0]["uid"]
    renamed = await api.client.patch(
        f"/api/v1/tags/{poetry}", json={"name": "Verse"}, headers=bearer(root)
    )
    assert renamed.json()["name"] == "Verse"
    listed = (await api.client.get("/api/v1/tags")).json()
    assert [t["name"] for t in listed["items"]] == ["sci-fi", "Verse"]
    assert (
        await api.client.delete(f"{BOOKS}/{book['uid']}/tags/{poetry}", headers=bearer(owner))
    ).status_code == 204
    assert (
        await api.client.delete(f"/api/v1/tags/{poetry}", headers=bearer(root))
    ).status_code == 204
    missing = await api.client.patch(
        f"/api/v1/tags/{poetry}", json={"name": "x"}, headers=bearer(root)
    )
    assert (missing.status_code, missing.json()["error_code"]) == (404, "tag_not_found")


FULLWIDTH_SCIFI = "\uff53\uff43\uff49\uff46\uff49"
INVISIBLE = ["\u200b", "\u200d", "\u00ad", "\u202e", "\u2066", "\ufeff", "\U000e0001"]


async def test_tag_names_that_look_alike_are_one_tag(api):
    owner, _ = await writer(api)
    root = await admin_token(api)
    scifi = await api.client.post("/api/v1/tags", json={"name": "scifi"}, headers=bearer(root))
    assert scifi.status_code == 201
    clash = await api.client.post(
        "/api/v1/tags", json={"name": FULLWIDTH_SCIFI}, headers=bearer(root)
    )
    assert (clash.status_code, clash.json()["error_code"]) == (409, "tag_exists")
    for char in INVISIBLE:
        for name in (f"sci{char}fi", f"{char}scifi", f"scifi{char}"):
            hidden = await api.client.post(
                "/api/v1/tags", json={"name": name}, headers=bearer(root)
            )
            assert (hidden.status_code, hidden.json()["error_code"]) == (422, "validation_error"), (
                ascii(name)
            )
    book = await book_of(api, owner, tags=["scifi"])
    wide = await book_of(api, owner, title="Wide", tags=[FULLWIDTH_SCIFI.upper()])
    assert [t["uid"] for t in wide["tags"]] == [scifi.json()["uid"]]
    found = (await api.client.get(BOOKS, params={"tag": FULLWIDTH_SCIFI})).json()
    assert {b["uid"] for b in found["items"]} == {book["uid"], wide["uid"]}
    listed = (await api.client.get("/api/v1/tags")).json()
    assert [t["name"] for t in listed["items"]] == ["scifi"]


async def test_twenty_concurrent_reviews_leave_exact_figures(api):
    owner, _ = await writer(api)
    book = await book_of(api, owner)
    tokens = []
    for i in range(20):
        await api.signup(f"r{i}@example.com", f"reader{i}")
        tokens.append((await api.login(f"r{i}@example.com"))["access_token"])
    ratings = [random.Random(i).randint(1, 5) for i in range(20)]
    responses = await asyncio.gather(
        *[
            api.client.post(
                f"{BOOKS}/{book['uid']}/reviews",
                json={"rating": rating, "review_text": "concurrent"},
                headers=bearer(token),
            )
            for token, rating in zip(tokens, ratings, strict=True)
        ]
    )
    assert [r.status_code for r in responses] == [201] * 20
    detail = (await api.client.get(f"{BOOKS}/{book['uid']}")).json()
    assert detail["review_count"] == 20
    assert detail["average_rating"] == sum(ratings) / 20
    assert len(detail["reviews"]) == 10


async def test_two_concurrent_attaches_of_a_new_name_make_one_tag(api):
    owner, _ = await writer(api)
    first, second = await book_of(api, owner), await book_of(api, owner)
    responses = await asyncio.gather(
        *[
            api.client.post(
                f"{BOOKS}/{book['uid']}/tags",
                json={"tags": [{"name": "Brand New"}]},
                headers=bearer(owner),
            )
            for book in (first, second)
        ]
    )
    assert [r.status_code for r in responses] == [200, 200]
    tags = (await api.client.get("/api/v1/tags")).json()
    assert tags["total"] == 1
    assert responses[0].json()["tags"] == responses[1].json()["tags"]


async def test_book_page_and_list_page_take_a_fixed_number_of_statements(api):
    owner, _ = await writer(api)
    book = await book_of(api, owner, tags=["a"])

    async def statements(path: str) -> int:
        with statements_counted(api) as sent:
            assert (await api.client.get(path)).status_code == 200
            return sent()

    for path in (f"{BOOKS}/{book['uid']}", BOOKS):  # a first read learns the row types
        await api.client.get(path)
    small = (await statements(f"{BOOKS}/{book['uid']}"), await statements(BOOKS))
    for i in range(12):
        await api.signup(f"r{i}@example.com", f"reader{i}")
        token = (await api.login(f"r{i}@example.com", PASSWORD))["access_token"]
        await api.client.post(
            f"{BOOKS}/{book['uid']}/reviews",
            json={"rating": 4, "review_text": "x"},
            headers=bearer(token),
        )
        await api.client.post(
            f"{BOOKS}/{book['uid']}/tags", json={"tags": [{"name": f"t{i}"}]}, headers=bearer(owner)
        )
        await book_of(api, owner, tags=[f"t{i}", "a"])
    large = (
        await statements(f"{BOOKS}/{book['uid']}"),
        await statements(f"{BOOKS}?limit=100&tag=a&sort=-rating"),
    )
    assert small == large == (1, 1)  # one statement each, on either database


async def test_tag_filter_and_rating_sort_agree_with_brute_force(api):
    owner, _ = await writer(api)
    rng = random.Random(11)
    tokens = []
    for i in range(5):
        await api.signup(f"r{i}@example.com", f"reader{i}")
        tokens.append((await api.login(f"r{i}@example.com"))["access_token"])
    expected = {}
    for i in range(25):
        names = rng.sample(["x", "y", "z"], rng.randint(0, 2))
        book = await book_of(api, owner, title=f"Book {i}", tags=names)
        ratings = [rng.randint(1, 5) for _ in range(rng.randint(0, 5))]
        for token, rating in zip(tokens, ratings, strict=False):
            await api.client.post(
                f"{BOOKS}/{book['uid']}/reviews",
                json={"rating": rating, "review_text": "r"},
                headers=bearer(token),
            )
        expected[book["uid"]] = (set(names), sum(ratings) / len(ratings) if ratings else None)
    for sort, descending in (("-rating", True), ("rating", False)):
        page = (await api.client.get(BOOKS, params={"tag": "Y", "sort": sort, "limit": 100})).json()
        tagged = [uid for uid, (names, _) in expected.items() if "y" in names]
        rated = sorted(
            (u for u in tagged if expected[u][1] is not None),
            key=lambda u: (expected[u][1], uuid.UUID(u)),
            reverse=descending,
        )
        unrated = sorted(
            (u for u in tagged if expected[u][1] is None), key=uuid.UUID, reverse=descending
        )
        assert page["total"] == len(tagged)
        assert [b["uid"] for b in page["items"]] == rated + unrated


async def test_deleting_a_book_leaves_no_orphans(api):
    owner, _ = await writer(api)
    reader, reader_uid = await writer(api, "bob@example.com", "bob")
    book = await book_of(api, owner, tags=["kept"])
    review = (
        await api.client.post(
            f"{BOOKS}/{book['uid']}/reviews",
            json={"rating": 4, "review_text": "gone soon"},
            headers=bearer(reader),
        )
    ).json()
    assert (
        await api.client.delete(f"{BOOKS}/{book['uid']}", headers=bearer(owner))
    ).status_code == 204
    assert (await api.client.get(f"/api/v1/reviews/{review['uid']}")).status_code == 404
    assert (await api.client.get(f"/api/v1/users/{reader_uid}/reviews")).json()["total"] == 0
    assert [t["name"] for t in (await api.client.get("/api/v1/tags")).json()["items"]] == ["kept"]
    async with api.container.engine().connect() as connection:
        from sqlalchemy import func, select

        from adapters.sqlalchemy.tables import book_tag_ratings, book_tags, reviews

        for table in (reviews, book_tags, book_tag_ratings):
            count = await connection.scalar(select(func.count()).select_from(table))
            assert count == 0


async def test_a_book_shows_its_own_reviews_and_tags_only(api):
    owner, _ = await writer(api)
    reader, _ = await writer(api, "bob@example.com", "bob")
    quiet = await book_of(api, owner, tags=["quiet"])
    busy = await book_of(api, owner, tags=["busy"])
    await api.client.post(
        f"{BOOKS}/{busy['uid']}/reviews",
        headers=bearer(reader),
        json={"rating": 5, "review_text": "Loud"},
    )
    detail = (await api.client.get(f"{BOOKS}/{quiet['uid']}")).json()
    assert (detail["reviews"], [t["name"] for t in detail["tags"]]) == ([], ["quiet"])
    page = (await api.client.get(BOOKS)).json()["items"]  # newest first
    assert [([t["name"] for t in b["tags"]], b["review_count"]) for b in page] == [
        (["busy"], 1),
        (["quiet"], 0),
    ]
