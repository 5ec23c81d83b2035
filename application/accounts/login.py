"""Logging in with email and password."""

from __future__ import annotations

from application.accounts.policy import AuthPolicy
from application.accounts.sessions import SessionIssuer, TokenPair
from application.ports.clock import Clock
from application.ports.limits import RateLimiter
from application.ports.persistence import UnitOfWorkFactory
from application.ports.security import PasswordHasher
from domain.errors import AccountDisabled, InvalidCredentials, RuleViolation, TooManyRequests
from domain.users import User, normalize_email


def failed_login_key(email: str) -> str:
    return f"failed-login:{email}"


class LogIn:
    """Same answer, in about the same time, for an unknown email and a wrong password.

    Every attempt is counted before the password is checked, so parallel guesses cannot
    slip past the limit; a successful login clears the count.

    No unit of work is open while the password is checked or hashed again: a verify is
    tens of milliseconds in the hashing threads' queue, and a transaction held across it
    would keep a database connection idle for that long, so that a storm of logins would
    hold every connection of the pool and stall every other request (and the readiness
    probe) behind it.
    """

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        hasher: PasswordHasher,
        limiter: RateLimiter,
        issuer: SessionIssuer,
        clock: Clock,
        policy: AuthPolicy,
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
            await self._rehash(user, password)
        return await self._issuer.open(user)

    async def _rehash(self, user: User, password: str) -> None:
        """Stores the password hashed with today's parameters, unless the account's
        password changed since it was read: a change that lands meanwhile must win, or
        the old password would come back."""
        verified = user.password_hash
        new_hash = await self._hasher.hash(password)
        async with self._uow() as uow:
            current = await uow.users.lock(user.uid)
            if current is None or current.password_hash != verified:
                return
            current.change_password_hash(new_hash, self._clock.now())
            await uow.users.update(current)
            await uow.commit()
