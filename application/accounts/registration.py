"""Signing up and proving the email address."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from application.accounts.mail import ACCOUNT_EXISTS, VERIFY_EMAIL, stage_account_mail, stage_mail
from application.accounts.policy import AuthPolicy
from application.accounts.sessions import end_sessions_before
from application.ports.clock import Clock
from application.ports.links import AccountLinks
from application.ports.persistence import UnitOfWorkFactory
from application.ports.security import CommonPasswords, LinkPurpose, LinkSigner, PasswordHasher
from application.ports.sessions import TokenStore
from domain.errors import EmailTaken, InvalidLink, UsernameTaken, WeakPassword
from domain.users import User, check_name, check_password, check_username, normalize_email


@dataclass(frozen=True, slots=True)
class SignUpCommand:
    email: str
    username: str
    first_name: str
    last_name: str
    password: str


def check_new_password(common: CommonPasswords, password: str, field: str) -> str:
    check_password(password, field)
    if common.is_common(password):
        raise WeakPassword(field)
    return password


def read_link(
    signer: LinkSigner, purpose: LinkPurpose, token: str, max_age_seconds: int
) -> tuple[uuid.UUID, dict[str, Any]]:
    """The account a signed link names, and the rest of its payload; InvalidLink if bad."""
    payload = signer.unsign(purpose, token, max_age_seconds)
    try:
        return uuid.UUID(str(payload["uid"])), payload
    except (KeyError, ValueError) as error:
        raise InvalidLink() from error


def link_claim_key(purpose: LinkPurpose, token: str) -> str:
    return f"link:{purpose.value}:{hashlib.sha256(token.encode()).hexdigest()}"


class SignUp:
    """Answers the same whether or not the email is registered; the mail tells the owner.

    A taken username is refused (UsernameTaken) before the email is looked at, for every
    email alike: the answer depends on the username only, so it says nothing about which
    addresses have accounts. The new account and its verification mail are committed
    together, so there is never an account without its mail, nor a mail for an account
    that was not created.
    """

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        hasher: PasswordHasher,
        common: CommonPasswords,
        clock: Clock,
        links: AccountLinks,
    ) -> None:
        self._uow, self._hasher, self._common = uow, hasher, common
        self._clock, self._links = clock, links

    async def execute(self, command: SignUpCommand) -> None:
        email = normalize_email(command.email)
        username = check_username(command.username)
        first_name = check_name("first_name", command.first_name)
        last_name = check_name("last_name", command.last_name)
        check_new_password(self._common, command.password, "password")
        password_hash = await self._hasher.hash(command.password)  # also for known emails
        now = self._clock.now()
        user = User(
            uuid.uuid4(),
            email,
            username,
            first_name,
            last_name,
            password_hash,
            created_at=now,
            updated_at=now,
        )
        try:
            async with self._uow() as uow:
                if await uow.users.get_by_username(username) is not None:
                    raise UsernameTaken()
                if await uow.users.get_by_email(email) is not None:
                    raise EmailTaken()
                await uow.users.add(user)
                await stage_account_mail(uow.outbox, VERIFY_EMAIL, user.email)
                await uow.commit()
        except EmailTaken:
            async with self._uow() as uow:
                await stage_mail(
                    uow.outbox,
                    ACCOUNT_EXISTS,
                    email,
                    {"reset_link": self._links.request_password_reset()},
                )
                await uow.commit()


class VerifyEmail:
    """Marks the address verified once per link, then ends every session of the account:
    whoever opened one before the owner proved the address (someone who signed up with
    an address not theirs, say) must log in again, as after a password reset."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        signer: LinkSigner,
        store: TokenStore,
        clock: Clock,
        policy: AuthPolicy,
    ) -> None:
        self._uow, self._signer, self._store = uow, signer, store
        self._clock, self._policy = clock, policy

    async def execute(self, token: str) -> None:
        ttl = self._policy.verify_link_ttl_seconds
        uid, payload = read_link(self._signer, LinkPurpose.VERIFY_EMAIL, token, ttl)
        async with self._uow() as uow:
            user = await uow.users.get(uid)
            if user is None or user.is_verified or user.email != payload.get("email"):
                raise InvalidLink()
            expires = self._clock.now() + timedelta(seconds=ttl)
            if not await self._store.claim_once(
                link_claim_key(LinkPurpose.VERIFY_EMAIL, token), expires
            ):
                raise InvalidLink()
            await end_sessions_before(self._store, uid)
            user.verify_email(self._clock.now())
            await uow.users.update(user)
            await uow.commit()
        await self._store.revoke_user(uid)


class ResendVerification:
    """Stages a verification mail for the address, whoever has it: whether one goes out
    (to an active, unverified account) is decided when it is sent (AccountMails)."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(self, email: str) -> None:
        async with self._uow() as uow:
            await stage_account_mail(uow.outbox, VERIFY_EMAIL, normalize_email(email))
            await uow.commit()
