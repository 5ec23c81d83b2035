"""In-memory unit of work: a dict of users, copied on enter, swapped in on commit."""

from __future__ import annotations

import copy
from typing import Self
from uuid import UUID

from domain.errors import EmailTaken, UsernameTaken
from domain.users import User


class MemoryUserRepository:
    def __init__(self, rows: dict[UUID, User]) -> None:
        self._rows = rows
        self.touched: set[UUID] = set()

    async def add(self, user: User) -> None:
        self._rows[user.uid] = user
        self.touched.add(user.uid)

    async def get(self, uid: UUID) -> User | None:
        return self._rows.get(uid)

    async def get_by_email(self, email: str) -> User | None:
        return next((u for u in self._rows.values() if u.email == email), None)

    async def get_by_username(self, username: str) -> User | None:
        wanted = username.lower()
        return next((u for u in self._rows.values() if u.username.lower() == wanted), None)

    async def update(self, user: User) -> None:
        self._rows[user.uid] = user
        self.touched.add(user.uid)


class MemoryDatabase:
    """The committed state shared by every unit of work made from it."""

    def __init__(self) -> None:
        self.users: dict[UUID, User] = {}
        self.commits = 0

    def unit_of_work(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self)


class MemoryUnitOfWork:
    def __init__(self, database: MemoryDatabase) -> None:
        self._database = database

    async def __aenter__(self) -> Self:
        self.users = MemoryUserRepository(copy.deepcopy(self._database.users))
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.users.touched.clear()

    async def commit(self) -> None:
        """Apply only the rows this unit touched, like row-level writes in a database."""
        merged = dict(self._database.users)
        for uid in self.users.touched:
            merged[uid] = copy.deepcopy(await self.users.get(uid))  # type: ignore[assignment]
        _check_unique(merged.values())
        self._database.users = merged
        self.users.touched.clear()
        self._database.commits += 1


def _check_unique(users: object) -> None:
    emails: set[str] = set()
    usernames: set[str] = set()
    for user in users:  # type: ignore[attr-defined]
        if user.email in emails:
            raise EmailTaken()
        if user.username.lower() in usernames:
            raise UsernameTaken()
        emails.add(user.email)
        usernames.add(user.username.lower())
