"""Hostile input, on both configurations: NUL bytes, huge and odd numbers, deep JSON,
bodies over the limit, huge headers, wrong content types, credentials in the wrong place.
Each gets the documented 4xx problem, quickly, and nothing is written."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.api.support import PASSWORD, SECRET, Api, assert_problem, bearer
from tests.services import free_port, wait_for_port

V1 = "/api/v1"
BOOK = {
    "title": "Kindred",
    "author": "Octavia E. Butler",
    "publisher": "Doubleday",
    "published_date": "1979-06-01",
    "page_count": 264,
    "language": "en",
}
NEW_PASSWORD = "a different long phrase"


@dataclass
class World:
    """A verified user with a book, its review and a tag; an admin who can count."""

    user: dict[str, str]
    admin: dict[str, str]
    book_uid: str
    review_uid: str
    tag_uid: str


async def world(api: Api) -> World:
    await api.signup("ada@example.com", "ada")
    await api.container.create_admin().execute("root@example.com", PASSWORD, "root")
    user = bearer((await api.login("ada@example.com"))["access_token"])
    admin = bearer((await api.login("root@example.com"))["access_token"])
    book = await api.client.post(f"{V1}/books", json={**BOOK, "tags": ["kin"]}, headers=user)
    assert book.status_code == 201, book.text
    review = await api.client.post(
        f"{V1}/books/{book.json()['uid']}/reviews",
        headers=user,
        json={"rating": 5, "review_text": "Unsparing."},
    )
    assert review.status_code == 201, review.text
    return World(
        user, admin, book.json()["uid"], review.json()["uid"], book.json()["tags"][0]["uid"]
    )


async def everything(api: Api, w: World) -> dict[str, object]:
    """What a write would change: the totals, and the records a PATCH would touch."""
    seen: dict[str, object] = {}
    for name in ("users", "books", "reviews", "tags"):
        response = await api.client.get(f"{V1}/{name}", headers=w.admin)
        assert response.status_code == 200, response.text
        seen[name] = response.json()["total"]
    for path in (f"books/{w.book_uid}", f"reviews/{w.review_uid}", "auth/me"):
        response = await api.client.get(f"{V1}/{path}", headers=w.user)
        assert response.status_code == 200, response.text
        seen[path] = response.json()
    seen["tag names"] = [t["name"] for t in (await api.client.get(f"{V1}/tags")).json()["items"]]
    return seen


@pytest.fixture
async def hostile(api: Api):
    """The world, and a check run after the test that nothing in it changed."""
    w = await world(api)
    before = await everything(api, w)
    yield w
    assert await everything(api, w) == before, "a hostile request wrote something"
    assert (await api.login("ada@example.com"))["access_token"]  # the password is unchanged


def with_nul(value: object) -> object:
    """The value with a NUL byte in the middle of its (first) string."""
    if isinstance(value, str):
        return value[: len(value) // 2] + "\x00" + value[len(value) // 2 :]
    if isinstance(value, list):
        return [with_nul(value[0]), *value[1:]]
    return {
        key: with_nul(item) if key == next(iter(value)) else item for key, item in value.items()
    }


def json_bodies(w: World) -> list[tuple[str, str, dict, dict[str, str], dict[str, tuple]]]:
    """(method, path, a valid body, headers, {field: (status, error_code) for NUL in it})."""
    invalid = (422, "validation_error")
    profile = {
        "email": "eve@example.com",
        "username": "eve",
        "first_name": "Eve",
        "last_name": "Moneypenny",
        "password": PASSWORD,
    }
    return [
        ("POST", "/auth/signup", profile, {}, dict.fromkeys(profile, invalid)),
        (
            "POST",
            "/auth/login",
            {"email": "ada@example.com", "password": PASSWORD},
            {},
            {"email": invalid, "password": (401, "invalid_credentials")},
        ),
        (
            "PATCH",
            "/auth/me",
            {"username": "ada2", "first_name": "A", "last_name": "L"},
            w.user,
            dict.fromkeys(("username", "first_name", "last_name"), invalid),
        ),
        (
            "POST",
            "/auth/password-change",
            {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
            w.user,
            {"current_password": (403, "invalid_credentials"), "new_password": invalid},
        ),
        (
            "POST",
            "/auth/password-reset-request",
            {"email": "ada@example.com"},
            {},
            {"email": invalid},
        ),
        ("POST", "/auth/verify/resend", {"email": "ada@example.com"}, {}, {"email": invalid}),
        (
            "POST",
            "/auth/password-reset-confirm/not-a-link",
            {"new_password": NEW_PASSWORD, "confirm_new_password": NEW_PASSWORD},
            {},
            {"new_password": invalid, "confirm_new_password": invalid},
        ),
        (
            "POST",
            "/books",
            {**BOOK, "tags": ["fresh"]},
            w.user,
            dict.fromkeys([*BOOK.keys() - {"page_count"}, "tags"], invalid),
        ),
        (
            "PATCH",
            f"/books/{w.book_uid}",
            {k: v for k, v in BOOK.items() if k != "page_count"},
            w.user,
            dict.fromkeys(BOOK.keys() - {"page_count"}, invalid),
        ),
        (
            "POST",
            f"/books/{w.book_uid}/reviews",
            {"rating": 3, "review_text": "Fine."},
            w.admin,
            {"review_text": invalid},
        ),
        (
            "PATCH",
            f"/reviews/{w.review_uid}",
            {"review_text": "Changed."},
            w.user,
            {"review_text": invalid},
        ),
        ("POST", "/tags", {"name": "fresh"}, w.admin, {"name": invalid}),
        ("PATCH", f"/tags/{w.tag_uid}", {"name": "renamed"}, w.admin, {"name": invalid}),
        (
            "POST",
            f"/books/{w.book_uid}/tags",
            {"tags": [{"name": "fresh"}]},
            w.user,
            {"tags": invalid},
        ),
    ]


async def test_nul_bytes_in_any_string_field_are_refused(api, hostile):
    for method, path, body, headers, fields in json_bodies(hostile):
        for name, (status, code) in fields.items():
            poisoned = {**body, name: with_nul(body[name])}
            response = await api.client.request(method, V1 + path, json=poisoned, headers=headers)
            problem = assert_problem(response, status, code)
            assert "\x00" not in json.dumps(problem.get("errors", []))  # never echoed


async def test_nul_bytes_in_forms_queries_and_paths_are_refused(api, hostile):
    for form in (
        {"username": "ada\x00@example.com", "password": PASSWORD},
        {"username": "ada@example.com", "password": PASSWORD + "\x00"},
    ):
        response = await api.client.post(f"{V1}/auth/token", data=form)
        assert_problem(response, 401, "invalid_credentials")
    for query in ("q", "author", "language", "tag"):
        response = await api.client.get(f"{V1}/books", params={query: "a\x00b"})
        assert_problem(response, 422, "validation_error")
    response = await api.client.get(f"{V1}/users", params={"q": "\x00"}, headers=hostile.admin)
    assert_problem(response, 422, "validation_error")
    assert_problem(await api.client.get(f"{V1}/auth/verify/%00"), 400, "invalid_link")
    for method, path in (
        ("GET", "books/%00"),
        ("GET", "reviews/%00"),
        ("GET", "users/%00/books"),
        ("DELETE", "tags/%00"),
    ):
        response = await api.client.request(method, f"{V1}/{path}", headers=hostile.admin)
        assert_problem(response, 422, "validation_error")


NUMBERS = [
    "1e400",
    "-1e400",
    "1" + "0" * 400,
    "1" + "0" * 5000,
    "1e308",
    "-0",
    "-0.0",
    "0",
    "NaN",
    "Infinity",
    "-Infinity",
    "2.5",
    "true",
    "null",
    '"5"',
    "[5]",
    "{}",
]


async def test_huge_and_odd_numbers_are_refused(api, hostile):
    book = json.dumps({**BOOK, "page_count": 0})[:-1]  # ...,"language": "en" without "}"
    for number in NUMBERS:
        cases = [
            (
                "POST",
                "/books",
                book.replace('"page_count": 0', f'"page_count": {number}') + "}",
                hostile.user,
            ),
            (
                "POST",
                f"/books/{hostile.book_uid}/reviews",
                f'{{"rating": {number}, "review_text": "Hmm."}}',
                hostile.admin,
            ),
            ("PATCH", f"/reviews/{hostile.review_uid}", f'{{"rating": {number}}}', hostile.user),
        ]
        if not number.startswith('"'):  # "5" is a fine tag name
            cases.append(("POST", "/tags", f'{{"name": {number}}}', hostile.admin))
        for method, path, content, headers in cases:
            response = await api.client.request(
                method,
                V1 + path,
                content=content.encode(),
                headers={**headers, "Content-Type": "application/json"},
            )
            assert_problem(response, 422, "validation_error")
    for query in (
        "limit=1e400",
        "limit=" + "9" * 400,
        "offset=" + "9" * 400,
        "limit=NaN",
        "limit=Infinity",
        "offset=1e3",
        "offset=-1",
        "limit=0x10",
    ):
        assert_problem(await api.client.get(f"{V1}/books?{query}"), 422, "validation_error")


async def test_deeply_nested_json_is_refused_quickly(api, hostile):
    depth = 10_000
    bodies = [
        b"[" * depth + b"]" * depth,
        b'{"a":' * depth + b"1" + b"}" * depth,
        b'{"title": ' + b"[" * depth + b"]" * depth + b"}",
        b"[" * 200_000,
    ]  # unterminated, and deeper than any recursion limit
    for path, headers in (
        ("/auth/login", {}),
        ("/auth/signup", {}),
        ("/books", hostile.user),
        ("/tags", hostile.admin),
    ):
        for body in bodies:
            started = time.perf_counter()
            response = await api.client.post(
                V1 + path, content=body, headers={**headers, "Content-Type": "application/json"}
            )
            assert time.perf_counter() - started < 1.0
            assert_problem(response, 422, "validation_error")


async def test_bodies_over_the_limit_are_refused_before_they_are_read(api, hostile):
    padding = "x" * 2_000_000
    cases = [
        (
            "/auth/signup",
            {
                "email": "eve@example.com",
                "username": "eve",
                "first_name": padding,
                "last_name": "M",
                "password": PASSWORD,
            },
            {},
        ),
        ("/books", {**BOOK, "title": padding}, hostile.user),
        (
            f"/books/{hostile.book_uid}/reviews",
            {"rating": 1, "review_text": padding},
            hostile.admin,
        ),
        ("/tags", {"name": padding}, hostile.admin),
    ]
    for path, body, headers in cases:
        response = await api.client.post(V1 + path, json=body, headers=headers)
        assert_problem(response, 413, "payload_too_large")

        async def streamed(data=json.dumps(body).encode()):
            for start in range(0, len(data), 65_536):
                yield data[start : start + 65_536]

        response = await api.client.post(
            V1 + path, content=streamed(), headers={**headers, "Content-Type": "application/json"}
        )
        assert_problem(response, 413, "payload_too_large")
    form = await api.client.post(
        f"{V1}/auth/token", data={"username": "ada@example.com", "password": padding}
    )
    assert_problem(form, 413, "payload_too_large")


async def test_70_kb_headers_are_refused(api, hostile):
    huge = "a" * 70_000
    for headers in (
        {"Authorization": f"Bearer {huge}"},
        {"X-Junk": huge},
        {f"X-Junk-{i}": "a" * 1000 for i in range(70)},
        {**hostile.user, "Cookie": f"c={huge}"},
    ):
        response = await api.client.post(f"{V1}/books", json=BOOK, headers=headers)
        assert_problem(response, 431, "request_header_fields_too_large")
    for headers in ({"Authorization": f"Bearer {'a' * 6000}"}, {"X-Junk": "a" * 8000}):
        response = await api.client.get(f"{V1}/auth/me", headers=headers)  # still answered
        assert_problem(
            response, 401, "invalid_token" if "Authorization" in headers else "not_authenticated"
        )


def test_the_real_server_refuses_70_kb_headers(tmp_path: Path):
    """uvicorn (httptools) parses headers of any size: the limit must be the app's."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("BOOKLY_")}
    environment.update(
        BOOKLY_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bookly.db'}",
        BOOKLY_SECRET_KEY=SECRET,
        BOOKLY_MAIL_OUTBOX_DIR=str(tmp_path / "outbox"),
    )
    script = shutil.which("bookly", path=str(Path(sys.executable).parent))
    command = [script] if script else [sys.executable, "-m", "entrypoints.cli.main"]
    server = subprocess.Popen(
        [*command, "serve", "--port", str(port)],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, timeout=30)

        def status_of(extra: bytes) -> int:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
                connection.sendall(
                    b"GET /api/v1/books HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + extra
                    + b"Connection: close\r\n\r\n"
                )
                head = connection.recv(64)
            return int(head.split()[1])

        assert status_of(b"") == 200
        for extra in (
            b"X-Junk: " + b"a" * 70_000 + b"\r\n",
            b"Authorization: Bearer " + b"a" * 70_000 + b"\r\n",
            b"".join(b"X-Junk-%d: %s\r\n" % (i, b"a" * 1000) for i in range(70)),
        ):
            assert status_of(extra) in (400, 401, 431)
    finally:
        server.terminate()
        server.wait(timeout=10)


async def test_wrong_content_types_are_refused(api, hostile):
    xml = b"<book><title>Kindred</title></book>"
    for path, body, headers in (
        (
            "/auth/signup",
            {
                "email": "eve@example.com",
                "username": "eve",
                "first_name": "E",
                "last_name": "M",
                "password": PASSWORD,
            },
            {},
        ),
        ("/books", BOOK, hostile.user),
        ("/tags", {"name": "fresh"}, hostile.admin),
    ):
        as_json = json.dumps(body).encode()
        for content, kind in (
            (as_json, "text/plain"),
            (xml, "application/xml"),
            (as_json, "application/x-www-form-urlencoded"),
            (as_json, "image/png"),
        ):
            response = await api.client.post(
                V1 + path, content=content, headers={**headers, "Content-Type": kind}
            )
            assert_problem(response, 422, "validation_error")
        fields = {k: str(v) for k, v in body.items()}
        multipart = await api.client.post(
            V1 + path, data=fields, headers=headers, files={"file": ("book.json", as_json)}
        )
        assert_problem(multipart, 422, "validation_error")
        latin1 = json.dumps({**body, **{next(iter(body)): "caf\xe9"}}, ensure_ascii=False)
        response = await api.client.post(
            V1 + path,
            content=latin1.encode("latin-1"),
            headers={**headers, "Content-Type": "application/json"},
        )
        assert_problem(response, 422, "validation_error")  # not UTF-8
    token_form = f"{V1}/auth/token"
    for content, kind in (
        (b'{"username": "ada@example.com", "password": "x"}', "application/json"),
        (b"username=ada@example.com", "text/plain"),
        (b"--xx\r\nbroken", "multipart/form-data; boundary=xx"),
        (b"--xx\r\nbroken", "multipart/form-data"),
    ):
        response = await api.client.post(
            token_form, content=content, headers={"Content-Type": kind}
        )
        assert_problem(response, 422, "validation_error")


async def test_credentials_count_only_in_the_authorization_header(api, hostile):
    pair = await api.login("ada@example.com")
    access, refresh = pair["access_token"], pair["refresh_token"]
    for where in (
        {"params": {"access_token": access}},
        {"params": {"token": access}},
        {"headers": {"Cookie": f"access_token={access}"}},
        {"headers": {"X-Access-Token": access}},
        {"headers": {"Authorization": access}},
    ):
        response = await api.client.post(f"{V1}/books", json=BOOK, **where)
        assert_problem(response, 401, "not_authenticated")
    for authorization in (
        f"Bearer {refresh}",
        f"Bearer {access} {access}",
        f"Bearer {access[:-2]}",
        f"Bearer {access}.{access}",
    ):
        response = await api.client.post(
            f"{V1}/books", json=BOOK, headers={"Authorization": authorization}
        )
        assert_problem(response, 401, "invalid_token")
    assert (await api.client.get(f"{V1}/auth/me", headers=bearer(access))).status_code == 200
