from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.itsdangerous.link_signer import ItsdangerousLinkSigner
from application.ports.security import LinkPurpose
from domain.errors import InvalidLink
from tests.fakes.clock import FixedClock

SECRET = "test-secret-key-0123456789abcdef0123456789"
DAY = 86400


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
def signer(clock: FixedClock) -> ItsdangerousLinkSigner:
    return ItsdangerousLinkSigner(SECRET, clock)


@pytest.mark.parametrize("purpose", list(LinkPurpose))
def test_round_trip(signer: ItsdangerousLinkSigner, purpose: LinkPurpose) -> None:
    payload = {"uid": "6d3e0c1a-2b4f-4c5d-9e8f-0a1b2c3d4e5f", "n": 1}
    token = signer.sign(purpose, payload)
    assert signer.unsign(purpose, token, max_age_seconds=DAY) == payload
    assert all(c.isalnum() or c in "-_." for c in token)  # safe in a URL path


def test_wrong_purpose(signer: ItsdangerousLinkSigner) -> None:
    token = signer.sign(LinkPurpose.VERIFY_EMAIL, {"uid": "u"})
    with pytest.raises(InvalidLink):
        signer.unsign(LinkPurpose.RESET_PASSWORD, token, max_age_seconds=DAY)


def test_expires_by_the_clock(signer: ItsdangerousLinkSigner, clock: FixedClock) -> None:
    token = signer.sign(LinkPurpose.RESET_PASSWORD, {"uid": "u"})
    clock.advance(3600)
    assert signer.unsign(LinkPurpose.RESET_PASSWORD, token, max_age_seconds=3600)
    clock.advance(1)
    with pytest.raises(InvalidLink):
        signer.unsign(LinkPurpose.RESET_PASSWORD, token, max_age_seconds=3600)


def test_signed_in_the_future_is_refused(signer: ItsdangerousLinkSigner, clock: FixedClock) -> None:
    token = signer.sign(LinkPurpose.VERIFY_EMAIL, {"uid": "u"})
    clock.advance(-60)
    with pytest.raises(InvalidLink):
        signer.unsign(LinkPurpose.VERIFY_EMAIL, token, max_age_seconds=DAY)


def test_tampered(signer: ItsdangerousLinkSigner) -> None:
    token = signer.sign(LinkPurpose.VERIFY_EMAIL, {"uid": "u"})
    body, _, rest = token.partition(".")
    forged = signer.sign(LinkPurpose.VERIFY_EMAIL, {"uid": "admin"}).partition(".")[0]
    for bad in (
        f"{forged}.{rest}",
        token[:-2] + ("AA" if token[-2:] != "AA" else "BB"),
        body,
        token + "x",
    ):
        with pytest.raises(InvalidLink):
            signer.unsign(LinkPurpose.VERIFY_EMAIL, bad, max_age_seconds=DAY)


def test_other_key(clock: FixedClock) -> None:
    token = ItsdangerousLinkSigner("another-secret-key-000000000000", clock).sign(
        LinkPurpose.VERIFY_EMAIL, {"uid": "u"}
    )
    with pytest.raises(InvalidLink):
        ItsdangerousLinkSigner(SECRET, clock).unsign(
            LinkPurpose.VERIFY_EMAIL, token, max_age_seconds=DAY
        )


@pytest.mark.parametrize("bad", ["", "garbage", "a.b.c", "....", "é.ü", "x" * 5000])
def test_garbage(signer: ItsdangerousLinkSigner, bad: str) -> None:
    with pytest.raises(InvalidLink):
        signer.unsign(LinkPurpose.RESET_PASSWORD, bad, max_age_seconds=DAY)
