"""Unit of work and repositories: how use cases reach stored state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, Self
from uuid import UUID

from application.ports.books import BookRepository
from application.ports.outbox import OutboxRepository
from application.ports.pages import Page
from application.ports.reviews import ReviewRepository, TagRepository
from application.ports.users import UserQuery
from domain.users import User


class UserRepository(Protocol):
    async def add(self, user: User) -> None:
        """Stage a new user; raises EmailTaken or UsernameTaken (at add or at commit)."""

    async def get(self, uid: UUID) -> User | None: ...

    async def lock(self, uid: UUID) -> User | None:
        """The user, its row held until the unit of work ends: another unit of work's
        `lock` of the same user waits (PostgreSQL: SELECT ... FOR UPDATE; SQLite: the
        database's write lock). For a change decided on what the row holds now."""

    async def get_by_email(self, email: str) -> User | None:
        """`email` is already normalised."""

    async def get_by_username(self, username: str) -> User | None: ...

    async def update(self, user: User) -> None:
        """Stage the changed fields of a user loaded from this repository."""

    async def search(self, query: UserQuery) -> Page[User]:
        """One page in a stable order (see UserQuery) and the total that match."""

    async def lock_active_admins(self) -> set[UUID]:
        """The uids of every active admin, held until the unit of work ends.

        Call it first in the unit of work. Every change of a role or an active flag takes
        it, so such changes queue up behind each other and the last-admin check sees the
        committed state (PostgreSQL: the admins' rows, SELECT ... FOR UPDATE; SQLite: the
        database's write lock)."""


class UnitOfWork(Protocol):
    """One transaction. Leaving the block without `commit()` rolls back."""

    # Read-only members: an adapter may hold them as attributes or compute them.
    @property
    def users(self) -> UserRepository: ...

    @property
    def books(self) -> BookRepository: ...

    @property
    def reviews(self) -> ReviewRepository: ...

    @property
    def tags(self) -> TagRepository: ...

    @property
    def outbox(self) -> OutboxRepository:
        """Jobs committed with the change that causes them."""
        ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc_info: object) -> None: ...

    async def commit(self) -> None:
        """Raises EmailTaken or UsernameTaken if a uniqueness rule is broken."""


UnitOfWorkFactory = Callable[[], UnitOfWork]
