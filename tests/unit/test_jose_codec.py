from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from jose import jwt

from adapters.jose.token_codec import JoseTokenCodec, unverified_claims
from application.ports.security import TokenClaims, TokenType
from domain.errors import InvalidToken
from tests.fakes.clock import FixedClock

SECRET = "test-secret-key-0123456789abcdef0123456789"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def codec(clock: FixedClock) -> JoseTokenCodec:
    return JoseTokenCodec(SECRET, clock)


def make_claims(token_type: TokenType = TokenType.ACCESS) -> TokenClaims:
    return TokenClaims(
        subject=uuid4(),
        session_id=uuid4(),
        token_id=uuid4().hex,
        token_type=token_type,
        issued_at=NOW,
        expires_at=NOW + timedelta(minutes=15),
    )


def payload(**changes: object) -> dict[str, object]:
    claims: dict[str, object] = {
        "sub": str(uuid4()),
        "sid": str(uuid4()),
        "jti": "j1",
        "typ": "access",
        "iat": int(NOW.timestamp()),
        "exp": int(NOW.timestamp()) + 900,
        "iss": "bookly",
        "aud": "bookly-api",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("token_type", list(TokenType))
def test_round_trip(codec: JoseTokenCodec, token_type: TokenType) -> None:
    claims = make_claims(token_type)
    assert codec.decode(codec.encode(claims)) == claims


def test_claims_on_the_wire(codec: JoseTokenCodec) -> None:
    claims = make_claims()
    raw = jwt.get_unverified_claims(codec.encode(claims))
    assert raw == {
        "sub": str(claims.subject),
        "sid": str(claims.session_id),
        "jti": claims.token_id,
        "typ": "access",
        "iat": int(NOW.timestamp()),
        "exp": int(NOW.timestamp()) + 900,
        "iss": "bookly",
        "aud": "bookly-api",
    }
    assert jwt.get_unverified_header(codec.encode(claims))["alg"] == "HS256"


def test_valid_until_the_second_of_expiry(codec: JoseTokenCodec, clock: FixedClock) -> None:
    token = codec.encode(make_claims())
    clock.advance(899.9)
    codec.decode(token)
    clock.advance(0.1)
    with pytest.raises(InvalidToken):
        codec.decode(token)


def test_a_hand_made_token_with_every_claim_is_accepted(codec: JoseTokenCodec) -> None:
    codec.decode(jwt.encode(payload(), SECRET, algorithm="HS256"))


def _forgeries() -> dict[str, str]:
    good = jwt.encode(payload(), SECRET, algorithm="HS256")
    header, body, signature = good.split(".")
    none_header = b64({"alg": "none", "typ": "JWT"})
    cases = {
        "alg-none": f"{none_header}.{body}.",
        "alg-none-with-signature": f"{none_header}.{body}.{signature}",
        "tampered-payload": f"{header}.{b64(payload(sub=str(uuid4())))}.{signature}",
        "other-key": jwt.encode(payload(), "another-secret-key-0123456789abcdef", "HS256"),
        "hs512": jwt.encode(payload(), SECRET, algorithm="HS512"),
        "rs256-header": f"{b64({'alg': 'RS256', 'typ': 'JWT'})}.{body}.{signature}",
        "hs256-lowercase": f"{b64({'alg': 'hs256', 'typ': 'JWT'})}.{body}.{signature}",
        "wrong-issuer": jwt.encode(payload(iss="someone-else"), SECRET, "HS256"),
        "wrong-audience": jwt.encode(payload(aud="another-api"), SECRET, "HS256"),
        "audience-list": jwt.encode(payload(aud=["bookly-api", "x"]), SECRET, "HS256"),
        "unknown-type": jwt.encode(payload(typ="id"), SECRET, "HS256"),
        "sub-not-uuid": jwt.encode(payload(sub="42"), SECRET, "HS256"),
        "sid-not-uuid": jwt.encode(payload(sid="x"), SECRET, "HS256"),
        "exp-as-string": jwt.encode(payload(exp="9999999999"), SECRET, "HS256"),
        "exp-as-float": jwt.encode(payload(exp=9999999999.5), SECRET, "HS256"),
        "exp-huge": jwt.encode(payload(exp=10**30), SECRET, "HS256"),
        "iat-bool": jwt.encode(payload(iat=True), SECRET, "HS256"),
        "nbf-as-string": jwt.encode(payload(nbf=str(int(NOW.timestamp()))), SECRET, "HS256"),
        "nbf-as-float": jwt.encode(payload(nbf=NOW.timestamp() - 0.5), SECRET, "HS256"),
        "nbf-bool": jwt.encode(payload(nbf=False), SECRET, "HS256"),
        "nbf-huge": jwt.encode(payload(nbf=10**30), SECRET, "HS256"),
        "iat-in-ten-minutes": jwt.encode(payload(iat=int(NOW.timestamp()) + 600), SECRET, "HS256"),
        "jti-empty": jwt.encode(payload(jti=""), SECRET, "HS256"),
        "garbage": "not.a.token",
        "two-parts": "abc.def",
        "bad-base64": "!!!.@@@.###",
        "payload-not-object": f"{header}.{base64.urlsafe_b64encode(b'[1]').decode()}.{signature}",
        "empty": "",
        "huge": f"{header}.{b64(payload(pad='x' * 5000))}.{signature}",
    }
    for claim in ("sub", "sid", "jti", "typ", "iat", "exp", "iss", "aud"):
        cases[f"missing-{claim}"] = jwt.encode(payload(**{claim: None}), SECRET, "HS256")
    return cases


FORGERIES = _forgeries()


@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_forged_or_malformed_tokens_are_invalid(codec: JoseTokenCodec, name: str) -> None:
    with pytest.raises(InvalidToken):
        codec.decode(FORGERIES[name])


def test_expired_token(codec: JoseTokenCodec, clock: FixedClock) -> None:
    token = codec.encode(make_claims())
    clock.advance(3600)
    with pytest.raises(InvalidToken):
        codec.decode(token)


def test_non_string_input(codec: JoseTokenCodec) -> None:
    with pytest.raises(InvalidToken):
        codec.decode(None)  # type: ignore[arg-type]
    with pytest.raises(InvalidToken):
        codec.decode(b"abc.def.ghi")  # type: ignore[arg-type]


def test_oversized_token_is_refused_before_decoding(
    codec: JoseTokenCodec, monkeypatch: pytest.MonkeyPatch
) -> None:
    def must_not_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("decoded an oversized token")

    monkeypatch.setattr("adapters.jose.token_codec.jwt.decode", must_not_run)
    monkeypatch.setattr("adapters.jose.token_codec.jws.get_unverified_header", must_not_run)
    with pytest.raises(InvalidToken):
        codec.decode("a" * 5000)


def test_a_token_seen_before_skips_verification_but_not_the_clock(
    codec: JoseTokenCodec, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    claims = make_claims()
    token = codec.encode(claims)
    assert codec.decode(token) == claims

    def must_not_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("verified a token seen before")

    monkeypatch.setattr("adapters.jose.token_codec.jwt.decode", must_not_run)
    monkeypatch.setattr("adapters.jose.token_codec.jws.get_unverified_header", must_not_run)
    assert codec.decode(token) == claims
    clock.advance(900)
    with pytest.raises(InvalidToken):
        codec.decode(token)


def test_refused_tokens_are_verified_again_each_time(
    codec: JoseTokenCodec, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real_decode = jwt.decode

    def counting_decode(*args: object, **kwargs: object) -> object:
        calls.append(args[0])
        return real_decode(*args, **kwargs)

    monkeypatch.setattr("adapters.jose.token_codec.jwt.decode", counting_decode)
    for _ in range(2):
        with pytest.raises(InvalidToken):
            codec.decode(FORGERIES["other-key"])
    assert calls == [FORGERIES["other-key"]] * 2


def at(seconds: int) -> int:
    """NOW plus `seconds`, as a JWT time."""
    return int(NOW.timestamp()) + seconds


@pytest.mark.parametrize(("claim", "ahead"), [("nbf", 31), ("nbf", 600), ("iat", 31), ("iat", 600)])
def test_a_token_from_the_future_is_refused_until_its_time(
    codec: JoseTokenCodec, clock: FixedClock, claim: str, ahead: int
) -> None:
    token = jwt.encode(payload(**{claim: at(ahead)}), SECRET, algorithm="HS256")
    for _ in range(2):  # the second time from the cache of verified tokens
        with pytest.raises(InvalidToken):
            codec.decode(token)
    clock.advance(ahead - 30)  # within the clock skew allowed
    assert codec.decode(token).subject


@pytest.mark.parametrize(
    ("claim", "ahead"), [("nbf", 30), ("nbf", 0), ("nbf", -100), ("iat", 30), ("iat", -100)]
)
def test_a_token_within_the_clock_skew_or_already_valid_is_accepted(
    codec: JoseTokenCodec, claim: str, ahead: int
) -> None:
    codec.decode(jwt.encode(payload(**{claim: at(ahead)}), SECRET, algorithm="HS256"))


@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_the_unverified_claims_of_any_token_are_a_short_string_and_an_int_or_none(
    name: str,
) -> None:
    """Where a read goes may follow a token's claims, forged or not; nothing a client
    sends makes them more than a short string and an integer."""
    claimed = unverified_claims(FORGERIES[name])
    if claimed is not None:
        subject, issued_at = claimed
        assert isinstance(subject, str) and len(subject) <= 64
        assert type(issued_at) is int


def test_the_unverified_claims_are_the_tokens_sub_and_iat(codec: JoseTokenCodec) -> None:
    claims = make_claims()
    assert unverified_claims(codec.encode(claims)) == (
        str(claims.subject),
        int(claims.issued_at.timestamp()),
    )
    assert unverified_claims(jwt.encode(payload(sub=["x"]), SECRET, "HS256")) is None
    assert unverified_claims(jwt.encode(payload(iat="1"), SECRET, "HS256")) is None
