"""Idempotency-Key on the creating POSTs, through the whole HTTP stack, on both
configurations: retries get the first answer and create nothing, at once or one after
another, on one worker or two."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import pytest

from domain.errors import ServiceUnavailable
from tests.api.support import BODY, PASSWORD, assert_problem, bearer, writer

BOOKS = "/api/v1/books"


def keyed(token: str, key: str | bytes) -> dict[str, str | bytes]:
    return {**bearer(token), "Idempotency-Key": key}


async def book_count(api, token: str) -> int:
    return (await api.client.get(f"{BOOKS}?limit=100", headers=bearer(token))).json()["total"]


async def test_twenty_retries_one_after_another_create_one_book(api):
    token, _ = await writer(api)
    key = str(uuid4())
    answers = [
        await api.client.post(BOOKS, json=BODY, headers=keyed(token, key)) for _ in range(20)
    ]
    first, *retries = answers
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    for retry in retries:
        assert (retry.status_code, retry.content) == (201, first.content)
        assert retry.headers["location"] == first.headers["location"]
        assert retry.headers["content-type"] == first.headers["content-type"]
        assert retry.headers["idempotent-replayed"] == "true"
        assert retry.headers["x-request-id"] != first.headers["x-request-id"]  # its own
    assert await book_count(api, token) == 1


async def test_twenty_at_once_on_two_workers_create_one_book(api_factory):
    async with api_factory() as one, api_factory() as two:
        token, _ = await writer(one)
        key = str(uuid4())
        answers = await asyncio.gather(
            *(
                worker.client.post(BOOKS, json=BODY, headers=keyed(token, key))
                for worker in [one, two] * 10
            )
        )
        assert await book_count(one, token) == 1
    created = [answer for answer in answers if answer.status_code == 201]
    refused = [answer for answer in answers if answer.status_code != 201]
    assert created and {answer.content for answer in created} == {created[0].content}
    for answer in refused:  # only if the first took longer than a retry waits
        assert_problem(answer, 409, "idempotency_key_in_use")
        assert answer.headers["retry-after"]


async def test_the_key_with_another_body_is_refused_and_changes_nothing(api):
    token, _ = await writer(api)
    key = str(uuid4())
    assert (await api.client.post(BOOKS, json=BODY, headers=keyed(token, key))).status_code == 201
    other = {**BODY, "title": "Another book"}
    refused = await api.client.post(BOOKS, json=other, headers=keyed(token, key))
    assert_problem(refused, 422, "idempotency_key_reused")
    elsewhere = await api.client.post("/api/v1/tags", json={"name": "x"}, headers=keyed(token, key))
    assert_problem(elsewhere, 422, "idempotency_key_reused")  # another route is another request
    assert await book_count(api, token) == 1


async def test_keys_are_the_callers_own(api):
    ada, _ = await writer(api)
    bob, _ = await writer(api, "bob@example.com", "bob")
    key = str(uuid4())
    mine = await api.client.post(BOOKS, json=BODY, headers=keyed(ada, key))
    theirs = await api.client.post(BOOKS, json=BODY, headers=keyed(bob, key))
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["uid"] != theirs.json()["uid"]
    assert "idempotent-replayed" not in theirs.headers


async def test_an_error_is_not_kept_and_a_retry_runs_again(api):
    token, _ = await writer(api, verify=False)  # may not add books yet
    key = str(uuid4())
    refused = await api.client.post(BOOKS, json=BODY, headers=keyed(token, key))
    assert_problem(refused, 403, "account_not_verified")
    verify = await api.link("ada@example.com", "Confirm")
    assert (await api.client.get(f"/api/v1/auth/verify/{verify}")).status_code == 200
    token = (await api.login())["access_token"]  # verifying ended the old session
    retried = await api.client.post(BOOKS, json=BODY, headers=keyed(token, key))
    assert retried.status_code == 201 and "idempotent-replayed" not in retried.headers


async def test_a_kept_answer_expires(api_factory):
    async with api_factory(idempotency_ttl_seconds=1) as api:
        token, _ = await writer(api)
        key = str(uuid4())
        first = await api.client.post(BOOKS, json=BODY, headers=keyed(token, key))
        await asyncio.sleep(1.2)
        again = await api.client.post(BOOKS, json=BODY, headers=keyed(token, key))
        assert (first.status_code, again.status_code) == (201, 201)
        assert first.json()["uid"] != again.json()["uid"]
        assert await book_count(api, token) == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there", "é".encode()])
async def test_a_malformed_key_is_a_validation_error(api, key):
    token, _ = await writer(api)
    refused = await api.client.post(BOOKS, json=BODY, headers=keyed(token, key))
    assert_problem(refused, 422, "validation_error")
    assert await book_count(api, token) == 0


async def test_signup_retried_makes_one_account_and_one_mail(api):
    key = str(uuid4())
    body = {
        "email": "zoe@example.com",
        "username": "zoe",
        "password": PASSWORD,
        "first_name": "Zoe",
        "last_name": "Z",
    }
    answers = [
        await api.client.post("/api/v1/auth/signup", json=body, headers={"Idempotency-Key": key})
        for _ in range(3)
    ]
    assert [answer.status_code for answer in answers] == [202] * 3
    assert [answer.headers.get("idempotent-replayed") for answer in answers] == [
        None,
        "true",
        "true",
    ]
    assert len([m for m in await api.mails() if m["To"] == "zoe@example.com"]) == 1


async def test_the_schema_documents_the_header_and_its_answers(api):
    schema = (await api.client.get("/api/v1/openapi.json")).json()
    creating = [
        ("/api/v1/books", "post"),
        ("/api/v1/books/{uid}/reviews", "post"),
        ("/api/v1/books/{uid}/tags", "post"),
        ("/api/v1/tags", "post"),
        ("/api/v1/auth/signup", "post"),
    ]
    for path, method in creating:
        operation = schema["paths"][path][method]
        headers = [p["name"] for p in operation["parameters"] if p["in"] == "header"]
        assert "Idempotency-Key" in headers, path
        assert {"409", "422"} <= set(operation["responses"]), path
        success = next(answer for code, answer in operation["responses"].items() if code < "300")
        assert "Idempotent-Replayed" in success["headers"], path
    login = schema["paths"]["/api/v1/auth/login"]["post"]
    assert "Idempotency-Key" not in [p["name"] for p in login.get("parameters", [])]


async def test_the_answer_goes_out_when_the_store_fails_to_keep_it(api, monkeypatch):
    token, _ = await writer(api)
    store = api.container.idempotency_store()

    async def down(*args, **kwargs) -> None:
        raise ServiceUnavailable("redis")

    monkeypatch.setattr(store, "complete", down)
    made = await api.client.post(BOOKS, json=BODY, headers=keyed(token, str(uuid4())))
    assert made.status_code == 201  # the book exists: its client hears so
    assert await book_count(api, token) == 1
