"""Login sessions: issuing token pairs, authenticating, refreshing, logging out."""

from __future__ import annotations

import dataclasses
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from application.accounts.policy import AuthPolicy
from application.ports.clock import Clock
from application.ports.persistence import UnitOfWorkFactory
from application.ports.security import TokenClaims, TokenCodec, TokenType
from application.ports.sessions import RotationOutcome, TokenStore
from domain.errors import InvalidToken, RefreshTokenRequired, TokenRevoked
from domain.users import User


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int  # seconds the access token lives


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller behind a valid access token."""

    user: User
    claims: TokenClaims


class SessionIssuer:
    """Opens sessions and mints their tokens; shared by login and refresh."""

    def __init__(
        self, codec: TokenCodec, store: TokenStore, clock: Clock, policy: AuthPolicy
    ) -> None:
        self._codec = codec
        self._store = store
        self._clock = clock
        self._policy = policy

    async def open(self, user: User) -> TokenPair:
        now = self._clock.now()
        session_id = uuid.uuid4()
        refresh_id = secrets.token_urlsafe(16)
        ends = now + timedelta(seconds=self._policy.refresh_token_ttl_seconds)
        await self._store.open_session(session_id, user.uid, refresh_id, ends)
        return self.mint(user.uid, session_id, refresh_id, ends)

    def mint(
        self, user_id: uuid.UUID, session_id: uuid.UUID, refresh_id: str, session_ends: datetime
    ) -> TokenPair:
        now = self._clock.now().replace(microsecond=0)
        access_ends = min(
            now + timedelta(seconds=self._policy.access_token_ttl_seconds), session_ends
        )
        access = TokenClaims(
            user_id, session_id, uuid.uuid4().hex, TokenType.ACCESS, now, access_ends
        )
        refresh = TokenClaims(user_id, session_id, refresh_id, TokenType.REFRESH, now, session_ends)
        return TokenPair(
            access_token=self._codec.encode(access),
            refresh_token=self._codec.encode(refresh),
            expires_in=int((access_ends - now).total_seconds()),
        )


class Authenticate:
    """Access token → the live account behind it.

    The hot path of every authenticated request: one token store round trip tells whether
    the session is live and hands over the cached account; only on a miss is the account
    loaded from the database (and cached; ForgettingUnitOfWork keeps the cache true).
    The principal's user never carries the password hash, cached or not: use cases that
    need it load the account in their own unit of work.
    """

    def __init__(self, codec: TokenCodec, store: TokenStore, uow: UnitOfWorkFactory) -> None:
        self._codec = codec
        self._store = store
        self._uow = uow

    async def execute(self, token: str) -> Principal:
        claims = self._codec.decode(token)
        if claims.token_type is not TokenType.ACCESS:
            raise InvalidToken("An access token is required.")
        check = await self._store.check(claims.session_id, claims.subject)
        if not check.live:
            raise TokenRevoked()
        user = check.user
        if user is None:
            async with self._uow() as uow:
                stored = await uow.users.get(claims.subject)
            if stored is None:
                raise TokenRevoked()
            user = dataclasses.replace(stored, password_hash="")
            await self._store.remember(user, check.version)
        if not user.is_active:
            raise TokenRevoked()
        return Principal(user, claims)


class RefreshSession:
    """Spend a refresh token for a new pair; a spent one coming back ends the session."""

    def __init__(
        self, codec: TokenCodec, store: TokenStore, uow: UnitOfWorkFactory, issuer: SessionIssuer
    ) -> None:
        self._codec = codec
        self._store = store
        self._uow = uow
        self._issuer = issuer

    async def execute(self, token: str) -> TokenPair:
        claims = self._codec.decode(token)
        if claims.token_type is not TokenType.REFRESH:
            raise RefreshTokenRequired()
        new_id = secrets.token_urlsafe(16)
        outcome = await self._store.rotate(claims.session_id, claims.token_id, new_id)
        if outcome is not RotationOutcome.ROTATED:
            raise TokenRevoked()
        async with self._uow() as uow:
            user = await uow.users.get(claims.subject)
        if user is None or not user.is_active:
            await self._store.revoke_session(claims.session_id)
            raise TokenRevoked()
        return self._issuer.mint(user.uid, claims.session_id, new_id, claims.expires_at)


class LogOut:
    def __init__(self, store: TokenStore) -> None:
        self._store = store

    async def execute(self, principal: Principal) -> None:
        await self._store.revoke_session(principal.claims.session_id)


async def end_sessions_before(store: TokenStore, user_id: uuid.UUID) -> None:
    """Ends the user's sessions ahead of a change after which none may go on (a new
    password, a verified address, an account taken over); the use case ends them again
    after its commit. The database and the token store are not one transaction: if the
    store fails after the commit, the sessions from before the change are gone already
    (only one opened in the instant between could outlive the error); if the commit fails,
    the user has only to log in again. Call it before the write, not at the commit: on
    SQLite the unit of work's write, or its lock, holds the one write lock that the SQL
    token store needs."""
    await store.revoke_user(user_id)


class LogOutEverywhere:
    def __init__(self, store: TokenStore) -> None:
        self._store = store

    async def execute(self, principal: Principal) -> None:
        await self._store.revoke_user(principal.user.uid)
