"""What the API tests share besides fixtures: the app on some settings with a client on
it (`Api`, `running`), and the helpers the tests call."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy import event

from adapters.sqlalchemy.book_reads import PoolRows
from entrypoints.container import Container, build_container, close_resources, open_resources
from entrypoints.http.app import create_app
from entrypoints.settings import Settings

SECRET = "api-tests-secret-key-0123456789abcdefghijkl"
PASSWORD = "correct horse battery"


@dataclass
class Api:
    client: httpx.AsyncClient
    app: FastAPI
    container: Container
    settings: Settings

    async def mails(self) -> list[email.message.EmailMessage]:
        await self.container.outbox_relay().drain()  # relay the outbox, run its jobs
        folder = Path(self.settings.mail_outbox_dir)
        files = sorted(folder.glob("*.eml")) if folder.exists() else []
        return [
            email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in files
        ]

    async def link(self, to: str, subject_word: str) -> str:
        """The token at the end of the newest link mailed to `to` about `subject_word`."""
        for message in reversed(await self.mails()):
            if message["To"] == to and subject_word in message["Subject"]:
                body = message.get_body(("plain",)).get_content()
                return re.search(r"https?://\S+/([A-Za-z0-9._\-]+)\s", body).group(1)
        raise AssertionError(f"no mail to {to} about {subject_word!r}")

    async def signup(
        self,
        email_address: str = "ada@example.com",
        username: str = "ada",
        verify: bool = True,
        password: str = PASSWORD,
    ) -> None:
        response = await self.client.post(
            "/api/v1/auth/signup",
            json={
                "email": email_address,
                "username": username,
                "first_name": "Ada",
                "last_name": "Lovelace",
                "password": password,
            },
        )
        assert response.status_code == 202, response.text
        if verify:
            token = await self.link(email_address.lower(), "Confirm")
            assert (await self.client.get(f"/api/v1/auth/verify/{token}")).status_code == 200

    async def login(self, email_address: str = "ada@example.com", password: str = PASSWORD) -> dict:
        response = await self.client.post(
            "/api/v1/auth/login", json={"email": email_address, "password": password}
        )
        assert response.status_code == 200, response.text
        return response.json()


@contextmanager
def statements_counted(api: Api) -> Iterator[Callable[[], int]]:
    """Yields a function that tells how many SQL statements the service has sent since the
    block began: through SQLAlchemy, and on PostgreSQL the catalogue reads' on asyncpg's
    pool (which SQLAlchemy's events do not see), through asyncpg's query loggers."""
    engine = api.container.engine().sync_engine
    rows = api.container.catalogue_rows()
    sent: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        sent.append(statement)

    def log_driver(query) -> None:
        sent.append(query.query)

    event.listen(engine, "before_cursor_execute", count)
    if isinstance(rows, PoolRows):
        rows.query_loggers.append(log_driver)
    try:
        yield lambda: len(sent)
    finally:
        event.remove(engine, "before_cursor_execute", count)
        if isinstance(rows, PoolRows):
            rows.query_loggers.remove(log_driver)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def running(settings: Settings, *, serving: bool = False) -> AsyncIterator[Api]:
    """An app on `settings`, as `bookly serve` would build it, with a client on it;
    `serving` also starts the work `bookly serve` runs beside the requests."""
    container = build_container(settings)
    app = create_app(settings, container)
    await open_resources(container, serving=serving)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        try:
            yield Api(client, app, container, settings)
        finally:
            await close_resources(container)


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert set(body) >= PROBLEM_KEYS
    assert (body["status"], body["error_code"]) == (status, code)
    assert body["request_id"] == response.headers["x-request-id"]
    return body


BODY = {
    "title": "Dune",
    "author": "Frank Herbert",
    "publisher": "Chilton",
    "published_date": "1965-08-01",
    "page_count": 412,
    "language": "en",
}


async def admin_token(api) -> str:
    """An admin's access token (the operator's `create-admin`, as the CLI runs it)."""
    await api.container.create_admin().execute("root@example.com", "an admin passphrase")
    return (await api.login("root@example.com", "an admin passphrase"))["access_token"]


async def writer(api, email="ada@example.com", username="ada", verify=True) -> tuple[str, str]:
    """(access token, uid) of a new user."""
    await api.signup(email, username, verify=verify)
    token = (await api.login(email))["access_token"]
    me = await api.client.get("/api/v1/auth/me", headers=bearer(token))
    return token, me.json()["uid"]


PROBLEM_KEYS = {"type", "title", "status", "detail", "instance", "error_code", "request_id"}
