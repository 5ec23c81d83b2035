"""Authenticated requests read the account from the token store's cache, and every
change of an account made through the use cases shows on the very next request."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from dependency_injector import providers

from application.accounts.account_cache import ForgettingUnitOfWork
from application.accounts.profile import ProfileChanges
from application.permissions import Operator
from application.ports.persistence import UnitOfWork, UnitOfWorkFactory
from application.users.administration import UserChanges
from domain.errors import TokenRevoked
from domain.users import Role
from tests.account_cache_contract import ACCOUNT_CACHE_CHECKS, cached, make_user
from tests.fakes.clock import FixedClock
from tests.fakes.persistence import MemoryDatabase
from tests.fakes.token_store import MemoryTokenStore
from tests.token_store_contract import StoreHarness
from tests.unit.harness import PASSWORD, Harness, signed_up

OPERATOR = Operator("tests")


class CountingUnits:
    """A UnitOfWorkFactory that counts the units of work it hands out."""

    def __init__(self, inner: UnitOfWorkFactory) -> None:
        self._inner = inner
        self.opened = 0

    def __call__(self) -> UnitOfWork:
        self.opened += 1
        return self._inner()


@pytest.fixture
def units(harness: Harness) -> CountingUnits:
    """Counts every unit of work the use cases open (before any of them is built)."""
    counting = CountingUnits(harness.database.unit_of_work)
    harness.container.database_uow.override(providers.Factory(counting))
    return counting


@pytest.fixture
def store_harness() -> StoreHarness:
    clock = FixedClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))

    async def pass_time(seconds: float) -> None:
        clock.advance(seconds)

    return StoreHarness(store=MemoryTokenStore(clock), clock=clock, pass_time=pass_time)


@pytest.mark.parametrize("check", ACCOUNT_CACHE_CHECKS, ids=lambda check: check.__name__)
async def test_account_cache_contract(check, store_harness: StoreHarness) -> None:
    await check(store_harness)


async def test_snapshots_expire_after_the_account_ttl(store_harness: StoreHarness) -> None:
    user = make_user()
    session = await cached(store_harness, user)
    await store_harness.pass_time(299)
    assert (await store_harness.store.check(session, user.uid)).user is not None
    await store_harness.pass_time(1)
    assert (await store_harness.store.check(session, user.uid)).user is None


async def test_a_ttl_of_zero_caches_nothing(store_harness: StoreHarness) -> None:
    store = MemoryTokenStore(store_harness.clock, account_ttl_seconds=0)
    user = make_user()
    harness = StoreHarness(store, store_harness.clock, store_harness.pass_time)
    session = await cached(harness, user)
    check = await store.check(session, user.uid)
    assert (check.live, check.user, check.version) == (True, None, None)


async def login(harness: Harness):
    return await harness.container.log_in().execute("ada@example.com", PASSWORD)


async def test_a_second_authenticate_opens_no_unit_of_work(harness, units) -> None:
    user = await signed_up(harness)
    pair = await login(harness)
    authenticate = harness.container.authenticate()
    opened = units.opened
    first = await authenticate.execute(pair.access_token)
    assert units.opened == opened + 1  # a miss: loaded once
    second = await authenticate.execute(pair.access_token)
    assert units.opened == opened + 1
    assert second.user.uid == user.uid and second.user.email == "ada@example.com"
    assert first.user.password_hash == second.user.password_hash == ""
    assert harness.database.users[user.uid].password_hash  # the stored account keeps it


async def test_account_changes_show_on_the_next_request(harness, units) -> None:
    user = await signed_up(harness, verified=False)
    pair = await login(harness)
    c = harness.container

    async def me():
        return await c.authenticate().execute(pair.access_token)

    assert not (await me()).user.is_verified
    await c.verify_email().execute(await harness.last_link_token("verify_email"))
    with pytest.raises(TokenRevoked):  # verifying ends the sessions opened before it
        await me()
    pair = await login(harness)
    assert (await me()).user.is_verified
    await c.change_user().execute(OPERATOR, user.uid, UserChanges(role=Role.GUEST))
    assert (await me()).user.role is Role.GUEST
    await c.update_profile().execute(await me(), ProfileChanges(first_name="Augusta"))
    assert (await me()).user.first_name == "Augusta"
    opened = units.opened
    assert (await me()).user.first_name == "Augusta"
    assert units.opened == opened  # cached again

    principal = await me()
    await c.change_user().execute(OPERATOR, user.uid, UserChanges(is_active=False))
    with pytest.raises(TokenRevoked):
        await me()
    check = await harness.store.check(principal.claims.session_id, user.uid)
    assert check.user is None  # forgotten, not merely unreachable through the session


async def test_only_a_committed_change_is_forgotten() -> None:
    clock = FixedClock()
    database, store = MemoryDatabase(), MemoryTokenStore(clock)
    uow = ForgettingUnitOfWork(database.unit_of_work, store)
    user = make_user()
    async with uow() as unit:
        await unit.users.add(user)
        await unit.commit()
    session = await cached(StoreHarness(store, clock, None), user)  # type: ignore[arg-type]
    async with uow() as unit:
        loaded = await unit.users.get(user.uid)
        loaded.rename(clock.now(), first_name="Augusta")
        await unit.users.update(loaded)  # left without commit: rolled back
    assert (await store.check(session, user.uid)).user is not None
    async with uow() as unit:
        loaded = await unit.users.get(user.uid)
        loaded.rename(clock.now(), first_name="Augusta")
        await unit.users.update(loaded)
        await unit.commit()
    assert (await store.check(session, user.uid)).user is None
