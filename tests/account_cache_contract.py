"""What every `TokenStore` that caches accounts (memory, Redis) does with the snapshots,
as checks a backend's tests run with a `StoreHarness` (see token_store_contract):

    @pytest.mark.parametrize("check", ACCOUNT_CACHE_CHECKS, ids=lambda check: check.__name__)
    async def test_account_cache_contract(check, harness): await check(harness)

The SQL store caches nothing, so it does not run them.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from domain.users import Role, User
from tests.token_store_contract import StoreHarness

PASSWORD_HASH = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$a-secret-hash"
CACHED_FIELDS = [f.name for f in dataclasses.fields(User) if f.name != "password_hash"]


def make_user(**changes: Any) -> User:
    created = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
    name = f"u{uuid4().hex[:12]}"
    values: dict[str, Any] = {
        "uid": uuid4(),
        "email": f"{name}@example.com",
        "username": name,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "password_hash": PASSWORD_HASH,
        "created_at": created,
        "updated_at": created + timedelta(seconds=5),
        "role": Role.ADMIN,
        "is_verified": True,
        "is_active": True,
    }
    return User(**{**values, **changes})


def cached_fields(user: User) -> dict[str, Any]:
    return {name: getattr(user, name) for name in CACHED_FIELDS}


async def cached(h: StoreHarness, user: User) -> UUID:
    """A live session of `user`, with its snapshot cached; returns the session id."""
    session = await h.open(user.uid)
    miss = await h.store.check(session, user.uid)
    await h.store.remember(user, miss.version)
    return session


async def check_a_remembered_account_comes_back_without_its_password_hash(h: StoreHarness) -> None:
    user = make_user()
    session = await h.open(user.uid)
    miss = await h.store.check(session, user.uid)
    assert miss.live and miss.user is None and miss.version is not None
    await h.store.remember(user, None)  # no stamp: nothing is cached
    assert (await h.store.check(session, user.uid)).user is None
    await h.store.remember(user, miss.version)
    hit = await h.store.check(session, user.uid)
    assert hit.live and hit.user is not None
    assert hit.user.password_hash == ""
    assert cached_fields(hit.user) == cached_fields(user)
    assert user.password_hash == PASSWORD_HASH  # the caller's object is left alone


async def check_the_session_decides_liveness_whatever_is_cached(h: StoreHarness) -> None:
    user = make_user()
    session = await cached(h, user)
    assert not (await h.store.check(uuid4(), user.uid)).live
    await h.store.revoke_session(session)
    assert not (await h.store.check(session, user.uid)).live
    stranger = await h.open()
    assert (await h.store.check(stranger, uuid4())).live


async def check_forget_drops_the_snapshots_of_those_users_only(h: StoreHarness) -> None:
    users = [make_user() for _ in range(3)]
    sessions = [await cached(h, user) for user in users]
    await h.store.forget([users[0].uid, users[1].uid])
    await h.store.forget([])  # nothing to forget is harmless
    found = [(await h.store.check(s, u.uid)).user for s, u in zip(sessions, users, strict=True)]
    assert found[0] is None and found[1] is None and found[2] is not None


async def check_a_forget_between_check_and_remember_voids_the_stale_snapshot(
    h: StoreHarness,
) -> None:
    """A reader misses and loads the row; a writer commits a change and forgets; the
    reader's `remember` of the row it loaded before the commit must store nothing."""
    before = make_user(role=Role.USER)
    session = await h.open(before.uid)
    reader = await h.store.check(session, before.uid)
    await h.store.forget([before.uid])  # the writer, right after its commit
    await h.store.remember(before, reader.version)
    after = await h.store.check(session, before.uid)
    assert after.user is None
    assert after.version != reader.version
    await h.store.remember(dataclasses.replace(before, role=Role.GUEST), after.version)
    cached_again = (await h.store.check(session, before.uid)).user
    assert cached_again is not None and cached_again.role is Role.GUEST


ACCOUNT_CACHE_CHECKS = [
    check_a_remembered_account_comes_back_without_its_password_hash,
    check_the_session_decides_liveness_whatever_is_cached,
    check_forget_drops_the_snapshots_of_those_users_only,
    check_a_forget_between_check_and_remember_voids_the_stale_snapshot,
]
