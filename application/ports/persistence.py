"""Unit of work and repositories: how use cases reach stored state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, Self
from uuid import UUID

from application.ports.books import BookRepository
from domain.users import User


class UserRepository(Protocol):
    async def add(self, user: User) -> None:
        """Stage a new user; raises EmailTaken or UsernameTaken (at add or at commit)."""

    async def get(self, uid: UUID) -> User | None: ...

    async def get_by_email(self, email: str) -> User | None:
        """`email` is already normalised."""

    async def get_by_username(self, username: str) -> User | None: ...

    async def update(self, user: User) -> None:
        """Stage the changed fields of a user loaded from this repository."""


class UnitOfWork(Protocol):
    """One transaction. Leaving the block without `commit()` rolls back."""

    users: UserRepository
    books: BookRepository

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc_info: object) -> None: ...

    async def commit(self) -> None:
        """Raises EmailTaken or UsernameTaken if a uniqueness rule is broken."""


UnitOfWorkFactory = Callable[[], UnitOfWork]
