"""Users stored in the `users` table, through the imperative mapping."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.mapping import start_mappers
from adapters.sqlalchemy.tables import USERS_EMAIL_INDEX, USERS_USERNAME_INDEX, users
from domain.errors import DomainError, EmailTaken, UsernameTaken
from domain.users import User


class SqlUserRepository:
    def __init__(self, session: AsyncSession) -> None:
        start_mappers()
        self._session = session

    async def add(self, user: User) -> None:
        self._session.add(user)

    async def get(self, uid: UUID) -> User | None:
        return await self._session.get(User, uid)

    async def get_by_email(self, email: str) -> User | None:
        return await self._one_where(users.c.email == email)

    async def get_by_username(self, username: str) -> User | None:
        return await self._one_where(func.lower(users.c.username) == username.lower())

    async def update(self, user: User) -> None:
        self._session.add(user)  # already tracked when loaded here; changes flush at commit

    async def _one_where(self, condition: ColumnElement[bool]) -> User | None:
        result = await self._session.execute(select(User).where(condition))
        return result.scalars().first()


def user_conflict(error: IntegrityError) -> DomainError | None:
    """The domain error for a broken users uniqueness rule, on PostgreSQL or SQLite."""
    orig = error.orig
    # asyncpg names the constraint; SQLite names the column, or the index of an expression.
    name = getattr(getattr(orig, "__cause__", None), "constraint_name", None)
    text = name or str(orig)
    if USERS_USERNAME_INDEX in text or "users.username" in text:
        return UsernameTaken()
    if USERS_EMAIL_INDEX in text or "users.email" in text:
        return EmailTaken()
    return None
