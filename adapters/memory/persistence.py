"""In-memory unit of work: each unit works on a private copy; commit applies the rows it
changed, like row-level writes in a database."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Self
from uuid import UUID

from adapters.memory.books import MemoryBookRepository
from adapters.memory.rows import StagedRows
from domain.books import Book
from domain.errors import EmailTaken, UsernameTaken
from domain.users import User


class MemoryUserRepository:
    def __init__(self, rows: StagedRows[User]) -> None:
        self._rows = rows

    async def add(self, user: User) -> None:
        self._rows.put(user.uid, user)

    async def get(self, uid: UUID) -> User | None:
        return self._rows.get(uid)

    async def get_by_email(self, email: str) -> User | None:
        return next((u for u in self._rows.values() if u.email == email), None)

    async def get_by_username(self, username: str) -> User | None:
        wanted = username.lower()
        return next((u for u in self._rows.values() if u.username.lower() == wanted), None)

    async def update(self, user: User) -> None:
        self._rows.put(user.uid, user)


class MemoryDatabase:
    """The committed state shared by every unit of work made from it."""

    def __init__(self) -> None:
        self.users: dict[UUID, User] = {}
        self.books: dict[UUID, Book] = {}
        self.commits = 0

    def unit_of_work(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self)


class MemoryUnitOfWork:
    def __init__(self, database: MemoryDatabase) -> None:
        self._database = database

    async def __aenter__(self) -> Self:
        self._users = StagedRows(self._database.users)
        self._books = StagedRows(self._database.books)
        self.users = MemoryUserRepository(self._users)
        self.books = MemoryBookRepository(self._books)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    async def commit(self) -> None:
        users = self._users.merged_into(self._database.users)
        _check_unique(users.values())
        books = self._books.merged_into(self._database.books)
        removed_users = set(self._database.users) - set(users)
        self._database.users = users
        self._database.books = {uid: b for uid, b in books.items()
                                if b.owner_uid not in removed_users}
        self._users = StagedRows(self._database.users)
        self._books = StagedRows(self._database.books)
        self.users = MemoryUserRepository(self._users)
        self.books = MemoryBookRepository(self._books)
        self._database.commits += 1


def _check_unique(users: Iterable[User]) -> None:
    emails: set[str] = set()
    usernames: set[str] = set()
    for user in users:
        if user.email in emails:
            raise EmailTaken()
        if user.username.lower() in usernames:
            raise UsernameTaken()
        emails.add(user.email)
        usernames.add(user.username.lower())
