"""Password hashing happens outside units of work, and the writes that follow it keep
what changed meanwhile."""

from __future__ import annotations

import asyncio

import pytest
from dependency_injector import providers

from domain.errors import CurrentPasswordIncorrect, InvalidCredentials
from tests.fakes.persistence import MemoryDatabase
from tests.fakes.security import PlainPasswordHasher
from tests.unit.harness import PASSWORD, principal_of, signed_up


class WatchingHasher(PlainPasswordHasher):
    """Notes how many units of work are open at each hash and check, runs `meanwhile`
    there (another request's write landing), and yields to the loop as a real hasher,
    waiting on its thread, does."""

    def __init__(self, database: MemoryDatabase) -> None:
        super().__init__()
        self.database = database
        self.open_at: list[int] = []
        self.meanwhile = lambda: None

    async def _wait(self) -> None:
        self.open_at.append(self.database.open_units)
        self.meanwhile()
        await asyncio.sleep(0)

    async def hash(self, password: str) -> str:
        await self._wait()
        return await super().hash(password)

    async def verify(self, password_hash: str, password: str) -> bool:
        await self._wait()
        return await super().verify(password_hash, password)

    async def verify_dummy(self, password: str) -> None:
        await self._wait()
        await super().verify_dummy(password)


@pytest.fixture
def hasher(harness) -> WatchingHasher:
    watching = WatchingHasher(harness.database)
    harness.container.hasher.override(providers.Object(watching))
    return watching


async def test_no_unit_of_work_is_open_while_a_password_is_hashed_or_checked(harness, hasher):
    """A hash waits tens of milliseconds for the hashing threads; a transaction open
    meanwhile would hold a database connection idle for all that time."""
    c = harness.container
    await signed_up(harness)
    await c.log_in().execute("ada@example.com", PASSWORD)
    for wrong in ("ada@example.com", "nobody@example.com", "not an email"):
        with pytest.raises(InvalidCredentials):
            await c.log_in().execute(wrong, "a wrong password")
    hasher.version = 2
    await c.log_in().execute("ada@example.com", PASSWORD)  # and hashed again
    _, me = await principal_of(harness)
    await c.change_password().execute(me, PASSWORD, "a brand new passphrase")
    await c.request_password_reset().execute("ada@example.com")
    await c.confirm_password_reset().execute(
        await harness.last_link_token("password_reset"), "yet another passphrase"
    )
    assert len(hasher.open_at) == 11  # every hash and check above
    assert set(hasher.open_at) == {0}


async def test_a_password_changed_while_login_hashes_it_again_is_kept(harness, hasher):
    user = await signed_up(harness)
    hasher.version = 2  # new parameters: the next login stores a new hash

    def change_elsewhere() -> None:
        if hasher.database.users[user.uid].password_hash.startswith("plain1$"):
            hasher.database.users[user.uid].change_password_hash(
                "plain2$changed elsewhere", harness.clock.now()
            )

    hasher.meanwhile = change_elsewhere
    await harness.container.log_in().execute("ada@example.com", PASSWORD)
    assert harness.database.users[user.uid].password_hash == "plain2$changed elsewhere"


async def test_of_two_password_changes_at_once_one_wins(harness, hasher):
    await signed_up(harness)
    _, me = await principal_of(harness)
    change = harness.container.change_password()
    outcomes = await asyncio.gather(
        change.execute(me, PASSWORD, "the first new passphrase"),
        change.execute(me, PASSWORD, "the second new passphrase"),
        return_exceptions=True,
    )
    assert outcomes[0] is None
    assert isinstance(outcomes[1], CurrentPasswordIncorrect)
    stored = next(iter(harness.database.users.values())).password_hash
    assert stored == "plain1$the first new passphrase"
