"""What every `IdempotencyStore` does, as checks that any backend's tests can run:

    @pytest.mark.parametrize("check", IDEMPOTENCY_CHECKS, ids=lambda check: check.__name__)
    async def test_idempotency_contract(check, harness): await check(harness)

`pass_time(seconds)` must make that much time pass for the store (advance a fake clock,
or sleep when the server keeps the time).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import uuid4

from application.ports.idempotency import Claim, IdempotencyStore, StoredAnswer

LEASE = 0.5
TTL = 0.5
ANSWER = StoredAnswer(201, (("content-type", "application/json"), ("location", "/x/1")), b'{"a":1}')


@dataclass
class IdempotencyHarness:
    store: IdempotencyStore
    pass_time: Callable[[float], Awaitable[None]]


def fresh_key() -> str:
    return uuid4().hex


async def check_a_free_key_is_owned_and_then_running(h: IdempotencyHarness) -> None:
    key = fresh_key()
    assert (await h.store.reserve(key, "fp", LEASE)).claim is Claim.OWNED
    assert (await h.store.reserve(key, "fp", LEASE)).claim is Claim.RUNNING
    assert (await h.store.reserve(key, "other", LEASE)).claim is Claim.REUSED


async def check_a_completed_key_replays_its_answer(h: IdempotencyHarness) -> None:
    key = fresh_key()
    await h.store.reserve(key, "fp", LEASE)
    await h.store.complete(key, "fp", ANSWER, 60)
    for _ in range(2):
        found = await h.store.reserve(key, "fp", LEASE)
        assert (found.claim, found.answer) == (Claim.DONE, ANSWER)
    assert (await h.store.reserve(key, "other", LEASE)).claim is Claim.REUSED


async def check_a_released_key_is_free_again(h: IdempotencyHarness) -> None:
    key = fresh_key()
    await h.store.reserve(key, "fp", LEASE)
    await h.store.release(key, "other")  # not the holder's request: nothing happens
    assert (await h.store.reserve(key, "fp", LEASE)).claim is Claim.RUNNING
    await h.store.release(key, "fp")
    assert (await h.store.reserve(key, "other", LEASE)).claim is Claim.OWNED


async def check_an_answer_is_kept_once(h: IdempotencyHarness) -> None:
    key = fresh_key()
    await h.store.reserve(key, "fp", LEASE)
    await h.store.complete(key, "fp", ANSWER, 60)
    later = StoredAnswer(500, (), b"")
    await h.store.complete(key, "fp", later, 60)  # a second completion changes nothing
    await h.store.release(key, "fp")  # nor does a release of an answered key
    assert (await h.store.reserve(key, "fp", LEASE)).answer == ANSWER


async def check_a_lapsed_lease_frees_the_key(h: IdempotencyHarness) -> None:
    key = fresh_key()
    await h.store.reserve(key, "fp", LEASE)
    await h.pass_time(LEASE + 0.2)  # its holder died without a word
    assert (await h.store.reserve(key, "fp", LEASE)).claim is Claim.OWNED


async def check_an_answer_expires(h: IdempotencyHarness) -> None:
    key = fresh_key()
    await h.store.reserve(key, "fp", LEASE)
    await h.store.complete(key, "fp", ANSWER, TTL)
    await h.pass_time(TTL + 0.2)
    assert (await h.store.reserve(key, "other", LEASE)).claim is Claim.OWNED


async def check_racing_reservations_have_one_winner(h: IdempotencyHarness) -> None:
    key = fresh_key()
    claims = await asyncio.gather(*(h.store.reserve(key, "fp", LEASE) for _ in range(10)))
    assert sorted(found.claim.value for found in claims) == ["owned"] + ["running"] * 9


IDEMPOTENCY_CHECKS = [
    check_a_free_key_is_owned_and_then_running,
    check_a_completed_key_replays_its_answer,
    check_a_released_key_is_free_again,
    check_an_answer_is_kept_once,
    check_a_lapsed_lease_frees_the_key,
    check_an_answer_expires,
    check_racing_reservations_have_one_winner,
]
