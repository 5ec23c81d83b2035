"""Admins and operators looking after accounts: list, read, change role and active flag."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from application.paging import Cursors
from application.permissions import Actor, require_admin, require_admin_or_self
from application.ports.clock import Clock
from application.ports.pages import Page, PageRequest
from application.ports.persistence import UnitOfWorkFactory
from application.ports.sessions import TokenStore
from application.ports.users import UserQuery
from domain.errors import LastAdmin, UserNotFound
from domain.users import Role, User, normalize_email


class ListUsers:
    def __init__(self, uow: UnitOfWorkFactory, cursors: Cursors) -> None:
        self._uow, self._cursors = uow, cursors

    async def execute(
        self, actor: Actor, query: UserQuery, request: PageRequest | None = None
    ) -> Page[User]:
        """`request` None: the query's own limit and offset (operators page this way)."""
        require_admin(actor)
        request = request or PageRequest(query.limit, query.offset)
        filters, after = self._cursors.resume("users", request, query.filters())
        query = UserQuery.of_filters(filters, request.limit, request.offset, after)
        async with self._uow() as uow:
            page = await uow.users.search(query)
        return self._cursors.continued("users", filters, page)


class GetUser:
    """Admins read anyone; a user reads only themself (others: 403, whether or not the
    account exists, so nobody learns which uids are taken)."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(self, actor: Actor, uid: UUID) -> User:
        require_admin_or_self(actor, uid)
        async with self._uow() as uow:
            user = await uow.users.get(uid)
        if user is None:
            raise UserNotFound()
        return user


class FindUserByEmail:
    """For operators, who name accounts by email."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(self, actor: Actor, email: str) -> User:
        require_admin(actor)
        normalized = normalize_email(email)
        async with self._uow() as uow:
            user = await uow.users.get_by_email(normalized)
        if user is None:
            raise UserNotFound(f"No account has the email {normalized}.")
        return user


@dataclass(frozen=True, slots=True)
class UserChanges:
    role: Role | None = None
    is_active: bool | None = None

    @property
    def is_empty(self) -> bool:
        return self.role is None and self.is_active is None


class ChangeUser:
    """Set a user's role and active flag; takes effect on the user's next request.

    Never leaves the service without an active admin (LastAdmin): the check runs after
    `lock_active_admins`, so two admins demoting each other at once cannot both succeed.
    Deactivating ends every session of the account (again on each repeat, so a retry
    finishes a revocation that failed). Activating first ends any session left from
    before the account was switched off.
    """

    def __init__(self, uow: UnitOfWorkFactory, store: TokenStore, clock: Clock) -> None:
        self._uow, self._store, self._clock = uow, store, clock

    async def execute(self, actor: Actor, uid: UUID, changes: UserChanges) -> User:
        require_admin(actor)
        if changes.is_active:
            await self._end_sessions_left_over(uid)
        async with self._uow() as uow:
            admins = set() if changes.is_empty else await uow.users.lock_active_admins()
            user = await uow.users.get(uid)
            if user is None:
                raise UserNotFound()
            if changes.is_empty:
                return user
            user.change_access(self._clock.now(), changes.role, changes.is_active)
            if uid in admins and not user.is_admin and not admins - {uid}:
                raise LastAdmin()
            await uow.users.update(user)
            await uow.commit()
        if changes.is_active is False:
            await self._store.revoke_user(uid)
        return user

    async def _end_sessions_left_over(self, uid: UUID) -> None:
        async with self._uow() as uow:
            user = await uow.users.get(uid)
        if user is not None and not user.is_active:
            await self._store.revoke_user(uid)
