"""Keeping the token store's account snapshots in step with the users table."""

from __future__ import annotations

from typing import Self
from uuid import UUID

from application.ports.books import BookRepository
from application.ports.outbox import OutboxRepository
from application.ports.pages import Page
from application.ports.persistence import UnitOfWork, UnitOfWorkFactory, UserRepository
from application.ports.reviews import ReviewRepository, TagRepository
from application.ports.sessions import TokenStore
from application.ports.users import UserQuery
from domain.users import User


class ForgettingUnitOfWork:
    """A UnitOfWorkFactory whose units of work are the inner factory's, except that once
    one commits, the token store forgets the snapshots of every user it added or updated.
    Every use case that changes an account goes through it, so none has to remember to.
    What that keeps true, and how soon: the promise in adapters/redis/auth_cache.py.
    """

    def __init__(self, inner: UnitOfWorkFactory, store: TokenStore) -> None:
        self._inner = inner
        self._store = store

    def __call__(self) -> UnitOfWork:
        return _ForgettingUnit(self._inner(), self._store)


class _ForgettingUnit:
    def __init__(self, inner: UnitOfWork, store: TokenStore) -> None:
        self._inner = inner
        self._store = store
        self._written: set[UUID] = set()

    # Read through on each access: a unit of work may replace its repositories (the
    # memory one does at commit).
    @property
    def users(self) -> UserRepository:
        return _RecordingUsers(self._inner.users, self._written)

    @property
    def books(self) -> BookRepository:
        return self._inner.books

    @property
    def reviews(self) -> ReviewRepository:
        return self._inner.reviews

    @property
    def tags(self) -> TagRepository:
        return self._inner.tags

    @property
    def outbox(self) -> OutboxRepository:
        return self._inner.outbox

    async def __aenter__(self) -> Self:
        await self._inner.__aenter__()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._inner.__aexit__(*exc_info)

    async def commit(self) -> None:
        await self._inner.commit()
        written = set(self._written)
        self._written.clear()
        if written:
            await self._store.forget(written)


class _RecordingUsers:
    """The inner repository, noting the uid of each user staged for writing.

    Forwarded by hand, not by `__getattr__`: mypy holds this class to UserRepository, so a
    method added to the port cannot reach the repository until it is written here, as a
    write (recorded) or a read.
    """

    def __init__(self, inner: UserRepository, written: set[UUID]) -> None:
        self._inner = inner
        self._written = written

    async def add(self, user: User) -> None:
        await self._inner.add(user)
        self._written.add(user.uid)

    async def update(self, user: User) -> None:
        await self._inner.update(user)
        self._written.add(user.uid)

    async def get(self, uid: UUID) -> User | None:
        return await self._inner.get(uid)

    async def lock(self, uid: UUID) -> User | None:
        return await self._inner.lock(uid)

    async def get_by_email(self, email: str) -> User | None:
        return await self._inner.get_by_email(email)

    async def get_by_username(self, username: str) -> User | None:
        return await self._inner.get_by_username(username)

    async def search(self, query: UserQuery) -> Page[User]:
        return await self._inner.search(query)

    async def lock_active_admins(self) -> set[UUID]:
        return await self._inner.lock_active_admins()
