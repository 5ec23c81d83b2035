"""The whole HTTP stack, on both configurations:

- `embedded`: SQLite file, token store in SQLite, in-process queue and rate limits;
- `production`: PostgreSQL and Redis (token store and rate limits).

Mail goes to a per-test outbox folder in both; tests read links from the .eml files.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event

from adapters.sqlalchemy.book_reads import PoolRows
from entrypoints.container import Container, build_container, close_resources
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from migrations import upgrade_to_head
from tests.integration.sql_fixtures import migrated_sqlite_url, truncate_all

SECRET = "api-tests-secret-key-0123456789abcdefghijkl"
PASSWORD = "correct horse battery"
CONFIGURATIONS = [
    pytest.param("embedded", id="embedded"),
    pytest.param("production", id="production", marks=[pytest.mark.postgres, pytest.mark.redis]),
]


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


@pytest.fixture(scope="session")
async def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sqlite-template")
    await migrated_sqlite_url(folder)
    return folder / "bookly.db"


@pytest.fixture(scope="session")
async def api_postgres_url(postgres_url: str) -> str:
    await asyncio.to_thread(upgrade_to_head, postgres_url)
    return postgres_url


@pytest.fixture
def base_settings(request: pytest.FixtureRequest, configuration: str, tmp_path: Path) -> dict:
    """Settings values for this test's configuration, on a clean database."""
    values: dict[str, object] = {
        "secret_key": SECRET,
        "allowed_hosts": ["testserver"],
        "mail_outbox_dir": tmp_path / "outbox",
        "ip_rate_limit": 10_000,
        "argon2_time_cost": 1,
        "argon2_memory_kib": 1024,
    }
    if configuration == "embedded":
        database = tmp_path / "bookly.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), database)
        values["database_url"] = f"sqlite+aiosqlite:///{database}"
    else:
        values["database_url"] = request.getfixturevalue("api_postgres_url")
        values["redis_url"] = request.getfixturevalue("redis_url")
        values["redis_key_prefix"] = request.getfixturevalue("redis_prefix")
    return values


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Api]:
    """An app on `settings`, as `bookly serve` would build it, with a client on it."""
    container = build_container(settings)
    app = create_app(settings, container)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        try:
            yield Api(client, app, container, settings)
        finally:
            await close_resources(container)


@pytest.fixture(params=CONFIGURATIONS)
def configuration(request: pytest.FixtureRequest) -> str:
    return request.param


async def _empty(database_url: str) -> None:
    from adapters.sqlalchemy.engine import create_engine

    engine = create_engine(database_url)
    try:
        await truncate_all(engine)
    finally:
        await engine.dispose()


@pytest.fixture
async def api_factory(base_settings: dict, configuration: str) -> AsyncIterator:
    """`async with api_factory(**setting_overrides) as api:`; may be entered again to
    restart the service on the same data. The shared PostgreSQL test database is emptied
    before and after each test."""
    if configuration == "production":
        await _empty(str(base_settings["database_url"]))
    yield lambda **overrides: running(Settings(_env_file=None, **{**base_settings, **overrides}))
    if configuration == "production":
        await _empty(str(base_settings["database_url"]))


@pytest.fixture
async def api(api_factory) -> AsyncIterator[Api]:
    async with api_factory() as started:
        yield started
