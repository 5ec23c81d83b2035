"""Access and refresh tokens as HS256 JWTs (python-jose)."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from jose import jws, jwt

from application.ports.clock import Clock
from application.ports.security import TokenClaims, TokenType
from domain.errors import InvalidToken

ALGORITHM = "HS256"
MAX_TOKEN_LENGTH = 4096
VERIFIED_CACHE_SIZE = 4096  # tokens whose signature and claims are known good
# How far ahead of this process's clock a token's `iat` or `nbf` may be: the clocks of the
# replicas that issue and check tokens differ a little. A token from further ahead is
# refused: one issued "in ten minutes" would otherwise outlive its stated lifetime.
CLOCK_SKEW_SECONDS = 30
_STRING_CLAIMS = ("sub", "sid", "jti", "typ", "iss", "aud")
_INT_CLAIMS = ("iat", "exp")
# jose's own time checks read the wall clock, and its `require_exp` switches its exp
# check back on; so exp, iat and nbf are checked here against the injected clock instead.
_JOSE_OPTIONS = {
    "verify_signature": True,
    "verify_aud": True,
    "verify_iss": True,
    "verify_iat": True,
    "verify_sub": True,
    "verify_jti": True,
    "verify_exp": False,
    "verify_nbf": False,
    "verify_at_hash": False,
    "require_aud": True,
    "require_iat": True,
    "require_iss": True,
    "require_sub": True,
    "require_jti": True,
    "require_exp": False,
    "require_nbf": False,
    "leeway": 0,
}


def _uuid(value: str) -> UUID:
    parsed = UUID(value)
    if str(parsed) != value:
        raise ValueError("not a canonical UUID")
    return parsed


class JoseTokenCodec:
    """`TokenCodec`: claims sub, sid, jti, typ, iat, exp (integer seconds), iss, aud; an
    `nbf` (integer seconds) is honoured, though our tokens carry none."""

    def __init__(
        self, secret_key: str, clock: Clock, issuer: str = "bookly", audience: str = "bookly-api"
    ) -> None:
        if not secret_key:
            raise ValueError("secret_key is empty")
        self._key = secret_key
        self._clock = clock
        self._issuer = issuer
        self._audience = audience
        # Verifying a signature and parsing the claims costs more than the rest of an
        # authenticated request; a client sends the same token many times. Exceptions are
        # not cached, so only verified tokens are; the clock is checked on every decode
        # (a token not yet valid becomes valid later, an unexpired one expires).
        self._verified = functools.lru_cache(maxsize=VERIFIED_CACHE_SIZE)(self._verify)

    def encode(self, claims: TokenClaims) -> str:
        payload = {
            "sub": str(claims.subject),
            "sid": str(claims.session_id),
            "jti": claims.token_id,
            "typ": claims.token_type.value,
            "iat": int(claims.issued_at.timestamp()),
            "exp": int(claims.expires_at.timestamp()),
            "iss": self._issuer,
            "aud": self._audience,
        }
        return jwt.encode(payload, self._key, algorithm=ALGORITHM)

    def decode(self, token: str) -> TokenClaims:
        """Raises InvalidToken for anything but a well-formed, signed token that is valid
        now: unexpired, and not from the future (`iat`, `nbf`) beyond the clock skew."""
        try:
            return self._decode(token)
        except InvalidToken:
            raise
        except Exception as error:  # anything a malformed token can raise
            raise InvalidToken() from error

    def _decode(self, token: str) -> TokenClaims:
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken()
        claims, usable_from = self._verified(token)
        now = self._clock.now()
        if now >= claims.expires_at or now < usable_from:
            raise InvalidToken()
        return claims

    def _verify(self, token: str) -> tuple[TokenClaims, datetime]:
        """Signature and claims, and the moment from which the token may be used (its `iat`
        or `nbf`, whichever is later, less the clock skew allowed); not the time itself,
        which changes between decodes."""
        header = jws.get_unverified_header(token)
        if header.get("alg") != ALGORITHM:
            raise InvalidToken()
        claims: dict[str, Any] = jwt.decode(
            token,
            self._key,
            algorithms=[ALGORITHM],
            audience=self._audience,
            issuer=self._issuer,
            options=dict(_JOSE_OPTIONS),
        )
        for name in _STRING_CLAIMS:
            if not isinstance(claims.get(name), str):
                raise InvalidToken()
        for name in _INT_CLAIMS:
            value = claims.get(name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise InvalidToken()
        if claims["iss"] != self._issuer or claims["aud"] != self._audience:
            raise InvalidToken()
        if not claims["jti"]:
            raise InvalidToken()
        not_before = claims.get("nbf", claims["iat"])
        if not isinstance(not_before, int) or isinstance(not_before, bool):
            raise InvalidToken()
        usable_from = max(claims["iat"], not_before) - CLOCK_SKEW_SECONDS
        return TokenClaims(
            subject=_uuid(claims["sub"]),
            session_id=_uuid(claims["sid"]),
            token_id=claims["jti"],
            token_type=TokenType(claims["typ"]),
            issued_at=datetime.fromtimestamp(claims["iat"], UTC),
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        ), datetime.fromtimestamp(usable_from, UTC)


def unverified_claims(token: str) -> tuple[str, int] | None:
    """The `sub` and `iat` a token claims, its signature NOT checked (None if it lacks
    either): only for what a forged token cannot abuse, such as where to send a public
    read."""
    if len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        claims = jwt.get_unverified_claims(token)
    except Exception:  # anything a malformed token can raise
        return None
    subject, issued_at = claims.get("sub"), claims.get("iat")
    if not isinstance(subject, str) or len(subject) > 64:
        return None
    if not isinstance(issued_at, int) or isinstance(issued_at, bool):
        return None
    return subject, issued_at
