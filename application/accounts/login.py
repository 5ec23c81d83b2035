"""Logging in with email and password."""

from __future__ import annotations

from application.accounts.policy import AuthPolicy
from application.accounts.sessions import SessionIssuer, TokenPair
from application.ports.clock import Clock
from application.ports.limits import RateLimiter
from application.ports.persistence import UnitOfWorkFactory
from application.ports.security import PasswordHasher
from domain.errors import AccountDisabled, InvalidCredentials, RuleViolation, TooManyRequests
from domain.users import normalize_email


def failed_login_key(email: str) -> str:
    return f"failed-login:{email}"


class LogIn:
    """Same answer, in about the same time, for an unknown email and a wrong password.

    Every attempt is counted before the password is checked, so parallel guesses cannot
    slip past the limit; a successful login clears the count.
    """

    def __init__(
        self, uow: UnitOfWorkFactory, hasher: PasswordHasher, limiter: RateLimiter,
        issuer: SessionIssuer, clock: Clock, policy: AuthPolicy,
    ) -> None:
        self._uow, self._hasher, self._limiter = uow, hasher, limiter
        self._issuer, self._clock, self._policy = issuer, clock, policy

    async def execute(self, email: str, password: str) -> TokenPair:
        try:
            normalized = normalize_email(email)
        except RuleViolation:
            await self._hasher.verify_dummy(password)
            raise InvalidCredentials() from None
        key = failed_login_key(normalized)
        attempts = await self._limiter.hit(key, self._policy.failed_login_window_seconds)
        if attempts.count > self._policy.max_failed_logins:
            raise TooManyRequests(attempts.retry_after_seconds)
        async with self._uow() as uow:
            user = await uow.users.get_by_email(normalized)
            if user is None:
                await self._hasher.verify_dummy(password)
                raise InvalidCredentials()
            if not await self._hasher.verify(user.password_hash, password):
                raise InvalidCredentials()
            await self._limiter.reset(key)
            if not user.is_active:
                raise AccountDisabled()
            if self._hasher.needs_rehash(user.password_hash):
                user.change_password_hash(await self._hasher.hash(password), self._clock.now())
                await uow.users.update(user)
                await uow.commit()
        return await self._issuer.open(user)
