"""The whole HTTP stack, on both configurations:

- `embedded`: SQLite file, token store in SQLite, in-process queue and rate limits;
- `production`: PostgreSQL and Redis (token store and rate limits).

Mail goes to a per-test outbox folder in both; tests read links from the .eml files.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from entrypoints.settings import Settings
from migrations import upgrade_to_head
from tests.api.support import SECRET, Api, running
from tests.integration.sql_fixtures import migrated_sqlite_url, truncate_all

CONFIGURATIONS = [
    pytest.param("embedded", id="embedded"),
    pytest.param("production", id="production", marks=[pytest.mark.postgres, pytest.mark.redis]),
]


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
