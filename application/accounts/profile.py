"""The caller's own account, and operators' account tools."""

from __future__ import annotations

import dataclasses
import re
import uuid
from dataclasses import dataclass

from application.accounts.registration import check_new_password
from application.accounts.sessions import Principal, end_sessions_before
from application.ports.clock import Clock
from application.ports.persistence import UnitOfWork, UnitOfWorkFactory
from application.ports.security import CommonPasswords, PasswordHasher
from application.ports.sessions import TokenStore
from application.preconditions import Precondition
from domain.errors import TokenRevoked, UsernameTaken, UserNotFound
from domain.users import Role, User, check_username, normalize_email


@dataclass(frozen=True, slots=True)
class ProfileChanges:
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None


class UpdateProfile:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(
        self,
        principal: Principal,
        changes: ProfileChanges,
        precondition: Precondition[User] | None = None,
    ) -> User:
        async with self._uow() as uow:
            if precondition is None:
                user = await uow.users.get(principal.user.uid)
            else:  # as it is now, and nobody else's to change until this commits
                user = await uow.users.lock(principal.user.uid)
            if user is None:
                raise TokenRevoked()
            if precondition is not None:
                precondition(user)
            if changes.username is not None:
                holder = await uow.users.get_by_username(check_username(changes.username))
                if holder is not None and holder.uid != user.uid:
                    raise UsernameTaken()
            user.rename(self._clock.now(), changes.username, changes.first_name, changes.last_name)
            await uow.users.update(user)
            await uow.commit()
        return user


@dataclass(frozen=True, slots=True)
class AdminAppointed:
    user: User  # the admin, as stored now
    before: User | None  # the account that had the email before, or None: a new account


class CreateAdmin:
    """A verified, active admin with the email and password the operator gives.

    When the email already has an account (one that anybody may have signed up for, with
    a password of their own), that account becomes the admin, and it gets the operator's
    password and loses every session it had: it is never left with a password or a
    session the operator did not choose. `before` tells the caller what it was, so the
    operator is told (an unverified account promoted is the case to look at twice).
    """

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

    async def execute(
        self, email: str, password: str, username: str | None = None
    ) -> AdminAppointed:
        email = normalize_email(email)
        check_new_password(self._common, password, "password")
        name = check_username(username or _username_from(email))
        password_hash = await self._hasher.hash(password)  # outside any transaction
        now = self._clock.now()
        async with self._uow() as uow:
            found = await uow.users.get_by_email(email)
            if found is not None:
                await end_sessions_before(self._store, found.uid)
                return await self._promote(uow, found.uid, password_hash)
            if await uow.users.get_by_username(name) is not None:
                raise UsernameTaken()
            user = User(
                uuid.uuid4(),
                email,
                name,
                "Admin",
                name,
                password_hash,
                created_at=now,
                updated_at=now,
                role=Role.ADMIN,
                is_verified=True,
            )
            await uow.users.add(user)
            await uow.commit()
        return AdminAppointed(user, None)

    async def _promote(self, uow: UnitOfWork, uid: uuid.UUID, password_hash: str) -> AdminAppointed:
        user = await uow.users.lock(uid)
        if user is None:  # deleted meanwhile
            raise UserNotFound()
        before = dataclasses.replace(user)
        now = self._clock.now()
        user.change_access(now, Role.ADMIN, is_active=True)
        user.verify_email(now)
        user.change_password_hash(password_hash, now)
        await uow.users.update(user)
        await uow.commit()
        await self._store.revoke_user(uid)
        return AdminAppointed(user, before)


def _username_from(email: str) -> str:
    local = re.sub(r"[^A-Za-z0-9_.-]", "", email.partition("@")[0])[:32]
    return local if len(local) >= 3 else f"admin-{local}".ljust(3, "0")
