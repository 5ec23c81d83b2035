"""The caller's own account, and operators' account tools."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from application.accounts.registration import check_new_password
from application.accounts.sessions import Principal
from application.ports.clock import Clock
from application.ports.persistence import UnitOfWorkFactory
from application.ports.security import CommonPasswords, PasswordHasher
from domain.errors import TokenRevoked, UsernameTaken
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

    async def execute(self, principal: Principal, changes: ProfileChanges) -> User:
        async with self._uow() as uow:
            user = await uow.users.get(principal.user.uid)
            if user is None:
                raise TokenRevoked()
            if changes.username is not None:
                holder = await uow.users.get_by_username(check_username(changes.username))
                if holder is not None and holder.uid != user.uid:
                    raise UsernameTaken()
            user.rename(self._clock.now(), changes.username, changes.first_name,
                        changes.last_name)
            await uow.users.update(user)
            await uow.commit()
        return user


class CreateAdmin:
    """A verified, active admin; an existing account is promoted and keeps its password."""

    def __init__(
        self, uow: UnitOfWorkFactory, hasher: PasswordHasher, common: CommonPasswords,
        clock: Clock,
    ) -> None:
        self._uow, self._hasher, self._common, self._clock = uow, hasher, common, clock

    async def execute(self, email: str, password: str, username: str | None = None) -> User:
        email = normalize_email(email)
        now = self._clock.now()
        async with self._uow() as uow:
            user = await uow.users.get_by_email(email)
            if user is not None:
                user.role, user.is_verified, user.is_active = Role.ADMIN, True, True
                user.touch(now)
                await uow.users.update(user)
                await uow.commit()
                return user
            check_new_password(self._common, password, "password")
            name = check_username(username or _username_from(email))
            if await uow.users.get_by_username(name) is not None:
                raise UsernameTaken()
            user = User(uuid.uuid4(), email, name, "Admin", name, await self._hasher.hash(password),
                        created_at=now, updated_at=now, role=Role.ADMIN, is_verified=True)
            await uow.users.add(user)
            await uow.commit()
        return user


def _username_from(email: str) -> str:
    local = re.sub(r"[^A-Za-z0-9_.-]", "", email.partition("@")[0])[:32]
    return local if len(local) >= 3 else f"admin-{local}".ljust(3, "0")
