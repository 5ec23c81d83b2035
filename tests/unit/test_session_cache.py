"""A worker's session cache on its own clock: what it trusts, and when it stops."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from adapters.redis.auth_cache import DEAF_AFTER_SECONDS, STRIPES, SessionCache
from application.ports.sessions import SessionCheck
from domain.users import User

TTL = 60.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def live_check(uid: UUID) -> SessionCheck:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    user = User(uid, "ada@example.com", "ada", "Ada", "Lovelace", "", when, when)
    return SessionCheck(True, user, "v1")


def other_stripe(uid: UUID) -> UUID:
    while True:
        other = uuid4()
        if hash(other) % STRIPES != hash(uid) % STRIPES:
            return other


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache(clock: Clock) -> SessionCache:
    cache = SessionCache(TTL, max_entries=3, clock=clock)
    cache.heard()
    return cache


def put(cache: SessionCache, session: UUID, user: UUID, expires_in: float | None = None) -> bool:
    return cache.put(session, user, live_check(user), cache.invalidation_mark(user), expires_in)


def test_a_stored_check_is_answered_for_its_own_user_only(cache: SessionCache) -> None:
    session, user = uuid4(), uuid4()
    assert cache.get(session, user) is None
    assert put(cache, session, user)
    assert cache.get(session, user) == live_check(user)
    assert cache.get(session, uuid4()) is None  # a token naming another user: ask Redis
    assert (cache.hits, cache.misses) == (1, 2)


def test_nothing_is_trusted_before_the_listener_hears(clock: Clock) -> None:
    cache = SessionCache(TTL, clock=clock)
    session, user = uuid4(), uuid4()
    assert not put(cache, session, user)
    cache.heard()
    assert put(cache, session, user)
    assert cache.get(session, user) is not None


def test_trust_lapses_without_heartbeats(cache: SessionCache, clock: Clock) -> None:
    session, user = uuid4(), uuid4()
    assert put(cache, session, user)
    clock.now += DEAF_AFTER_SECONDS - 0.1
    assert cache.get(session, user) is not None
    clock.now += 0.2
    assert cache.get(session, user) is None
    assert not put(cache, uuid4(), user)
    cache.heard()  # a heartbeat answered again: what was kept is good again
    assert cache.get(session, user) is not None


def test_a_lost_subscription_forgets_everything(cache: SessionCache) -> None:
    session, user = uuid4(), uuid4()
    assert put(cache, session, user)
    invalidation_mark = cache.invalidation_mark(user)
    cache.distrust_all()
    cache.heard()  # subscribed again
    assert cache.get(session, user) is None
    assert len(cache) == 0
    # a check that started before the loss is not stored after it
    assert not cache.put(session, user, live_check(user), invalidation_mark, None)


def test_an_invalidation_voids_checks_of_that_user_in_flight(cache: SessionCache) -> None:
    user = uuid4()
    bystander = other_stripe(user)
    mine, theirs = cache.invalidation_mark(user), cache.invalidation_mark(bystander)
    cache.drop_user(user)
    assert not cache.put(uuid4(), user, live_check(user), mine, None)
    assert cache.put(uuid4(), bystander, live_check(bystander), theirs, None)
    invalidation_mark = cache.invalidation_mark(user)
    cache.drop_session(uuid4(), user)  # a session of the user ended: same
    assert not cache.put(uuid4(), user, live_check(user), invalidation_mark, None)


def test_entries_live_for_the_ttl_and_never_past_their_session(
    cache: SessionCache, clock: Clock
) -> None:
    long_lived, short_lived, user = uuid4(), uuid4(), uuid4()
    assert put(cache, long_lived, user)
    assert put(cache, short_lived, user, expires_in=5.0)
    assert not put(cache, uuid4(), user, expires_in=-1.0)  # already over
    for _ in range(3):
        clock.now += 2.0
        cache.heard()
    assert cache.get(short_lived, user) is None
    assert cache.get(long_lived, user) is not None
    clock.now += TTL
    cache.heard()
    assert cache.get(long_lived, user) is None


def test_only_live_checks_with_an_account_are_kept(cache: SessionCache) -> None:
    user = uuid4()
    assert not cache.put(
        uuid4(), user, SessionCheck(False, None, "v"), cache.invalidation_mark(user), None
    )
    assert not cache.put(
        uuid4(), user, SessionCheck(True, None, "v"), cache.invalidation_mark(user), None
    )
    off = SessionCache(0, clock=Clock())
    off.heard()
    assert not off.put(uuid4(), user, live_check(user), off.invalidation_mark(user), None)


def test_messages_drop_a_session_or_every_session_of_a_user(cache: SessionCache) -> None:
    user, other = uuid4(), uuid4()
    first, second, third = uuid4(), uuid4(), uuid4()
    assert put(cache, first, user) and put(cache, second, user) and put(cache, third, other)
    cache.apply(f"s:{first}:{user}".encode())
    assert cache.get(first, user) is None and cache.get(second, user) is not None
    cache.apply(f"s:{second}:")  # a session that had gone already: dropped all the same
    assert cache.get(second, user) is None
    assert put(cache, first, user)
    cache.apply(f"u:{user}".encode())
    assert cache.get(first, user) is None and cache.get(third, other) is not None


def test_a_message_not_understood_empties_the_cache(cache: SessionCache) -> None:
    session, user = uuid4(), uuid4()
    assert put(cache, session, user)
    cache.apply(b"s:not-a-uuid:")
    assert len(cache) == 0
    assert put(cache, session, user)
    cache.apply(b"x:whatever")
    assert len(cache) == 0


def test_the_oldest_entry_makes_room(cache: SessionCache) -> None:
    user = uuid4()
    sessions = [uuid4() for _ in range(4)]
    for session in sessions:
        assert put(cache, session, user)
    assert len(cache) == 3
    assert cache.get(sessions[0], user) is None
    assert all(cache.get(s, user) is not None for s in sessions[1:])
    cache.apply(f"u:{user}")
    assert len(cache) == 0
