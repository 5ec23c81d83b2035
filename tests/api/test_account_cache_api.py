"""GET /me in the steady state runs no database statement (production configuration:
the account comes from Redis), and a change shows on the very next request."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from entrypoints.container import open_resources
from tests.api.support import bearer

AUTH = "/api/v1/auth"


@pytest.fixture(
    params=[pytest.param("production", marks=[pytest.mark.postgres, pytest.mark.redis])]
)
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


async def _eventually(condition, what: str, within: float = 3.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, f"not within {within} s: {what}"
        await asyncio.sleep(0.01)


async def test_two_workers_answer_from_memory_and_both_honour_a_logout(api_factory):
    """Two apps on one PostgreSQL and Redis, as two worker processes, listening as
    `bookly serve` makes them: each answers a repeated /me from memory, and an account
    change or a logout in one reaches the other."""
    async with api_factory() as one, api_factory() as two:
        caches = [api.container.session_cache() for api in (one, two)]
        for api in (one, two):
            await open_resources(api.container, serving=True)

        async def listening() -> bool:
            return all(cache.trusted for cache in caches)

        await _eventually(listening, "both workers subscribe")
        await one.signup()
        headers = bearer((await one.login())["access_token"])
        for api, cache in zip((one, two), caches, strict=True):
            await api.client.get(f"{AUTH}/me", headers=headers)  # the account reaches Redis
            await api.client.get(f"{AUTH}/me", headers=headers)  # and this worker's memory
            hits = cache.hits
            assert (await api.client.get(f"{AUTH}/me", headers=headers)).status_code == 200
            assert cache.hits == hits + 1

        patched = await one.client.patch(f"{AUTH}/me", json={"last_name": "King"}, headers=headers)
        assert patched.status_code == 200

        async def renamed_in_two() -> bool:
            me = await two.client.get(f"{AUTH}/me", headers=headers)
            return me.json()["last_name"] == "King"

        await _eventually(renamed_in_two, "the other worker sees the change")

        assert (await one.client.post(f"{AUTH}/logout", headers=headers)).status_code == 204
        assert (await one.client.get(f"{AUTH}/me", headers=headers)).status_code == 401

        async def refused_by_two() -> bool:
            return (await two.client.get(f"{AUTH}/me", headers=headers)).status_code == 401

        await _eventually(refused_by_two, "the other worker refuses the token")
