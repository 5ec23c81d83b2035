"""GET /me in the steady state runs no database statement (production configuration:
the account comes from Redis), and a change shows on the very next request."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from tests.api.conftest import bearer

AUTH = "/api/v1/auth"


@pytest.fixture(params=[pytest.param("production", marks=[pytest.mark.postgres,
                                                          pytest.mark.redis])])
def configuration(request: pytest.FixtureRequest) -> str:
    return request.param


@contextmanager
def statements(api) -> Iterator[list[str]]:
    """The SQL statements run through the units of work's engine inside the block."""
    seen: list[str] = []
    engine = api.container.engine().sync_engine

    def record(conn, cursor, statement, *args) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_me_runs_no_sql_once_the_account_is_cached(api):
    await api.signup()
    headers = bearer((await api.login())["access_token"])
    with statements(api) as first:
        assert (await api.client.get(f"{AUTH}/me", headers=headers)).status_code == 200
    assert first  # a miss: loaded from the database
    with statements(api) as steady:
        for _ in range(3):
            assert (await api.client.get(f"{AUTH}/me", headers=headers)).status_code == 200
    assert steady == []
    patched = await api.client.patch(f"{AUTH}/me", json={"last_name": "King"}, headers=headers)
    assert patched.status_code == 200
    me = await api.client.get(f"{AUTH}/me", headers=headers)
    assert me.json()["last_name"] == "King"
