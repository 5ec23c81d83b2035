"""Changing a password, and resetting a forgotten one by mail."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from application.accounts.account_mails import password_fingerprint
from application.accounts.mail import PASSWORD_RESET, stage_account_mail
from application.accounts.policy import AuthPolicy
from application.accounts.registration import check_new_password, link_claim_key, read_link
from application.accounts.sessions import Principal, end_sessions_before
from application.ports.clock import Clock
from application.ports.persistence import UnitOfWorkFactory
from application.ports.security import CommonPasswords, LinkPurpose, LinkSigner, PasswordHasher
from application.ports.sessions import TokenStore
from domain.errors import CurrentPasswordIncorrect, InvalidLink
from domain.users import User, normalize_email


class ChangePassword:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        hasher: PasswordHasher,
        common: CommonPasswords,
        store: TokenStore,
        clock: Clock,
    ) -> None:
        self._uow, self._hasher, self._common = uow, hasher, common
        self._store, self._clock = store, clock

    async def execute(self, principal: Principal, current: str, new: str) -> None:
        """Checks and hashes outside any unit of work (see LogIn), then changes the
        password only if it is still the one checked: of two changes that race, the
        second finds the first's password and is told its current one is wrong."""
        check_new_password(self._common, new, "new_password")
        async with self._uow() as uow:
            user = await uow.users.get(principal.user.uid)
        if user is None or not await self._hasher.verify(user.password_hash, current):
            raise CurrentPasswordIncorrect()
        checked = user.password_hash
        new_hash = await self._hasher.hash(new)
        await end_sessions_before(self._store, principal.user.uid)
        async with self._uow() as uow:
            user = await uow.users.lock(principal.user.uid)
            if user is None or user.password_hash != checked:
                raise CurrentPasswordIncorrect()
            user.change_password_hash(new_hash, self._clock.now())
            await uow.users.update(user)
            await uow.commit()
        await self._store.revoke_user(user.uid)


class RequestPasswordReset:
    """Stages a one-time link for the address, whoever has it: the same work, and so the
    same answer in the same time, for any email. Whether it goes out (to an active
    account) is decided when it is sent (AccountMails)."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(self, email: str) -> None:
        async with self._uow() as uow:
            await stage_account_mail(uow.outbox, PASSWORD_RESET, normalize_email(email))
            await uow.commit()


class CheckResetLink:
    """Whether a reset link would still work (InvalidLink if not), without using it: for
    the page a clicked link opens. A used link fails too, as the password it was made
    for has changed."""

    def __init__(self, uow: UnitOfWorkFactory, signer: LinkSigner, policy: AuthPolicy) -> None:
        self._uow, self._signer, self._policy = uow, signer, policy

    async def execute(self, token: str) -> None:
        uid, payload = read_link(
            self._signer, LinkPurpose.RESET_PASSWORD, token, self._policy.reset_link_ttl_seconds
        )
        async with self._uow() as uow:
            user = await uow.users.get(uid)
        if not _resets(user, payload):
            raise InvalidLink()


def _resets(user: User | None, payload: Mapping[str, Any]) -> bool:
    """Whether a reset link's payload still applies to the account."""
    return (
        user is not None
        and user.is_active
        and password_fingerprint(user.password_hash) == payload.get("fp")
    )


class ConfirmPasswordReset:
    """Sets the new password once per link, then ends every session of the account.

    Following the link proves the owner reads that mailbox, so the email counts as
    verified from then on.
    """

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        signer: LinkSigner,
        hasher: PasswordHasher,
        common: CommonPasswords,
        store: TokenStore,
        clock: Clock,
        policy: AuthPolicy,
    ) -> None:
        self._uow, self._signer, self._hasher, self._common = uow, signer, hasher, common
        self._store, self._clock, self._policy = store, clock, policy

    async def execute(self, token: str, new_password: str) -> None:
        check_new_password(self._common, new_password, "new_password")
        ttl = self._policy.reset_link_ttl_seconds
        uid, payload = read_link(self._signer, LinkPurpose.RESET_PASSWORD, token, ttl)
        new_hash = await self._hasher.hash(new_password)
        async with self._uow() as uow:
            user = await uow.users.get(uid)
            if user is None or not _resets(user, payload):
                raise InvalidLink()
            expires = self._clock.now() + timedelta(seconds=ttl)
            if not await self._store.claim_once(
                link_claim_key(LinkPurpose.RESET_PASSWORD, token), expires
            ):
                raise InvalidLink()
            await end_sessions_before(self._store, uid)
            now = self._clock.now()
            user.change_password_hash(new_hash, now)
            if not user.is_verified:
                user.verify_email(now)
            await uow.users.update(user)
            await uow.commit()
        await self._store.revoke_user(uid)
