"""Every kind of bad token gets a 401 problem, never a 500."""

from __future__ import annotations

import base64
import json
import time
import uuid

import pytest
from jose import jwt

from tests.api.support import SECRET, bearer

ME = "/api/v1/auth/me"


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims(uid: str, sid: str, /, **changes) -> dict:
    now = int(time.time())
    base = {
        "sub": uid,
        "sid": sid,
        "jti": uuid.uuid4().hex,
        "typ": "access",
        "iat": now,
        "exp": now + 600,
        "iss": "bookly",
        "aud": "bookly-api",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


async def session_of(api) -> tuple[str, str, str]:
    await api.signup()
    access = (await api.login())["access_token"]
    payload = jwt.get_unverified_claims(access)
    return access, payload["sub"], payload["sid"]


async def test_a_well_made_token_of_our_own_is_accepted(api):
    _, uid, sid = await session_of(api)
    token = jwt.encode(claims(uid, sid), SECRET, algorithm="HS256")
    assert (await api.client.get(ME, headers=bearer(token))).status_code == 200


@pytest.mark.parametrize(
    "forge",
    [
        "alg_none",
        "tampered",
        "other_key",
        "expired",
        "no_exp",
        "no_sid",
        "no_typ",
        "no_aud",
        "wrong_iss",
        "hs512",
        "garbage",
        "huge",
        "not_a_uuid",
        "nbf_in_ten_minutes",
        "iat_in_ten_minutes",
        "nbf_not_a_number",
    ],
)
async def test_forged_tokens_are_invalid(api, forge):
    access, uid, sid = await session_of(api)
    header, payload, signature = access.split(".")
    tokens = {
        "alg_none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "tampered": f"{header}.{b64(claims(uid, sid, typ='access', sub=str(uuid.uuid4())))}"
        f".{signature}",
        "other_key": jwt.encode(claims(uid, sid), "another-key-" * 4, algorithm="HS256"),
        "expired": jwt.encode(claims(uid, sid, exp=int(time.time()) - 1), SECRET, "HS256"),
        "no_exp": jwt.encode(claims(uid, sid, exp=None), SECRET, algorithm="HS256"),
        "no_sid": jwt.encode(claims(uid, sid, sid=None), SECRET, algorithm="HS256"),
        "no_typ": jwt.encode(claims(uid, sid, typ=None), SECRET, algorithm="HS256"),
        "no_aud": jwt.encode(claims(uid, sid, aud=None), SECRET, algorithm="HS256"),
        "wrong_iss": jwt.encode(claims(uid, sid, iss="someone"), SECRET, algorithm="HS256"),
        "hs512": jwt.encode(claims(uid, sid), SECRET, algorithm="HS512"),
        "garbage": "not.a.token",
        "huge": "a" * 6000,
        "not_a_uuid": jwt.encode(claims("1 OR 1=1", sid), SECRET, algorithm="HS256"),
        "nbf_in_ten_minutes": jwt.encode(
            claims(uid, sid, nbf=int(time.time()) + 600), SECRET, algorithm="HS256"
        ),
        "iat_in_ten_minutes": jwt.encode(
            claims(uid, sid, iat=int(time.time()) + 600), SECRET, algorithm="HS256"
        ),
        "nbf_not_a_number": jwt.encode(claims(uid, sid, nbf="0"), SECRET, algorithm="HS256"),
    }
    response = await api.client.get(ME, headers=bearer(tokens[forge]))
    assert response.status_code == 401
    assert response.json()["error_code"] == "invalid_token"
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/problem+json"


async def test_missing_or_foreign_scheme_is_not_authenticated(api):
    for headers in ({}, {"Authorization": "Basic YWRhOnB3"}, {"Authorization": "Bearer"}):
        response = await api.client.get(ME, headers=headers)
        assert (response.status_code, response.json()["error_code"]) == (401, "not_authenticated")
        assert response.headers["www-authenticate"] == "Bearer"


async def test_a_token_for_an_ended_session_is_revoked_even_if_well_signed(api):
    _, uid, _ = await session_of(api)
    token = jwt.encode(claims(uid, str(uuid.uuid4())), SECRET, algorithm="HS256")
    response = await api.client.get(ME, headers=bearer(token))
    assert (response.status_code, response.json()["error_code"]) == (401, "token_revoked")
