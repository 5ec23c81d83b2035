"""In-memory unit of work: each unit works on a private copy; commit applies the rows it
changed, like row-level writes in a database, then the database's rules: uniqueness and
ON DELETE CASCADE."""

from __future__ import annotations

from typing import Any, Self
from uuid import UUID

from adapters.inprocess.clock import SystemClock
from application.ports.clock import Clock
from application.ports.pages import Page, bounded
from application.ports.users import UserQuery, user_position, user_search_key
from domain.errors import EmailTaken, ReviewExists, TagExists, UsernameTaken
from domain.users import User
from tests.fakes.books import MemoryBookRepository
from tests.fakes.outbox import MemoryOutboxRepository
from tests.fakes.reviews import MemoryReviewRepository, MemoryTagRepository, from_position, paged
from tests.fakes.rows import StagedRows

TABLES = ("users", "books", "reviews", "tags", "book_tags", "ratings", "outbox_jobs")


class MemoryUserRepository:
    def __init__(self, rows: StagedRows[UUID, User]) -> None:
        self._rows = rows

    async def add(self, user: User) -> None:
        self._rows.put(user.uid, user)

    async def get(self, uid: UUID) -> User | None:
        return self._rows.get(uid)

    async def lock(self, uid: UUID) -> User | None:
        """Nothing to hold, as in `lock_active_admins`."""
        return self._rows.get(uid)

    async def get_by_email(self, email: str) -> User | None:
        return next((u for u in self._rows.values() if u.email == email), None)

    async def get_by_username(self, username: str) -> User | None:
        wanted = username.lower()
        return next((u for u in self._rows.values() if u.username.lower() == wanted), None)

    async def update(self, user: User) -> None:
        self._rows.put(user.uid, user)

    async def search(self, query: UserQuery) -> Page[User]:
        found = sorted(
            (u for u in self._rows.values() if _user_matches(u, query)), key=user_position
        )
        total, exact = (len(found), True) if query.is_whole_list else bounded(len(found))
        rest = from_position(found, query.after, False, user_position)
        return paged(rest, query.limit, query.offset, query.after, total, exact, user_position)

    async def lock_active_admins(self) -> set[UUID]:
        """Nothing to lock: memory units of work never wait on I/O, so a use case's check
        and its commit run without another unit of work in between."""
        return {u.uid for u in self._rows.values() if u.is_admin}


def _user_matches(user: User, query: UserQuery) -> bool:
    if query.text is not None:
        needle = user_search_key(query.text)
        if needle not in user.email and needle not in user.username.lower():
            return False
    return (
        (query.role is None or user.role is query.role)
        and (query.is_verified is None or user.is_verified is query.is_verified)
        and (query.is_active is None or user.is_active is query.is_active)
    )


class MemoryDatabase:
    """The committed state shared by every unit of work made from it."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[Any, Any]] = {name: {} for name in TABLES}
        self.commits = 0
        self.open_units = 0  # units of work inside their `async with` block now
        self.clock: Clock = SystemClock()  # stamps outbox jobs; tests may set a FixedClock

    def __getattr__(self, name: str) -> dict[Any, Any]:
        if name in TABLES:
            tables: dict[str, dict[Any, Any]] = self.__dict__["tables"]
            return tables[name]
        raise AttributeError(name)

    def unit_of_work(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self)


class MemoryUnitOfWork:
    def __init__(self, database: MemoryDatabase) -> None:
        self._database = database

    async def __aenter__(self) -> Self:
        self._stage()
        self._database.open_units += 1
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._database.open_units -= 1

    def _stage(self) -> None:
        staged = {name: StagedRows(rows) for name, rows in self._database.tables.items()}
        self._staged = staged
        self.users = MemoryUserRepository(staged["users"])
        self.books = MemoryBookRepository(
            staged["books"],
            staged["reviews"],
            staged["tags"],
            staged["book_tags"],
            staged["ratings"],
        )
        self.reviews = MemoryReviewRepository(staged["reviews"])
        self.tags = MemoryTagRepository(staged["tags"], staged["book_tags"])
        self.outbox = MemoryOutboxRepository(staged["outbox_jobs"], self._database.clock)

    async def commit(self) -> None:
        merged = {
            name: self._staged[name].merged_into(self._database.tables[name]) for name in TABLES
        }
        _cascade(merged)
        _check_unique(merged)
        self._database.tables = merged
        self._database.commits += 1
        self._stage()


def _cascade(tables: dict[str, dict[Any, Any]]) -> None:
    users, books, tags = tables["users"], tables["books"], tables["tags"]
    tables["books"] = books = {k: b for k, b in books.items() if b.owner_uid in users}
    tables["reviews"] = {
        k: r for k, r in tables["reviews"].items() if r.book_uid in books and r.user_uid in users
    }
    tables["book_tags"] = {
        k: v for k, v in tables["book_tags"].items() if k[0] in books and k[1] in tags
    }
    tables["ratings"] = {k: v for k, v in tables["ratings"].items() if k in books}


def _check_unique(tables: dict[str, dict[Any, Any]]) -> None:
    def unique(rows: Any, key: Any, error: type[Exception]) -> None:
        keys = [key(row) for row in rows]
        if len(keys) != len(set(keys)):
            raise error()

    unique(tables["users"].values(), lambda u: u.email, EmailTaken)
    unique(tables["users"].values(), lambda u: u.username.lower(), UsernameTaken)
    unique(tables["reviews"].values(), lambda r: (r.book_uid, r.user_uid), ReviewExists)
    unique(tables["tags"].values(), lambda t: t.key, TagExists)
