"""Users stored in the `users` table, through the imperative mapping."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import ColumnElement, func, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.counts import bounded_count, kept
from adapters.sqlalchemy.keyset import keyset_page
from adapters.sqlalchemy.tables import USERS_EMAIL_INDEX, USERS_USERNAME_INDEX, users
from application.ports.pages import Page, bounded, fetched_page
from application.ports.users import UserQuery, user_position, user_search_key
from domain.errors import DomainError, EmailTaken, UsernameTaken
from domain.users import Role, User


class SqlUserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, user: User) -> None:
        self._session.add(user)

    async def get(self, uid: UUID) -> User | None:
        return await self._session.get(User, uid)

    async def lock(self, uid: UUID) -> User | None:
        await self._sqlite_write_lock(users.c.uid == uid)
        # populate_existing: a row already in the session is read again, as locked.
        return await self._session.get(User, uid, with_for_update=True, populate_existing=True)

    async def get_by_email(self, email: str) -> User | None:
        return await self._one_where(users.c.email == email)

    async def get_by_username(self, username: str) -> User | None:
        return await self._one_where(func.lower(users.c.username) == username.lower())

    async def update(self, user: User) -> None:
        self._session.add(user)  # already tracked when loaded here; changes flush at commit

    async def search(self, query: UserQuery) -> Page[User]:
        where = _conditions(query)
        found = (
            (
                await self._session.execute(
                    keyset_page(
                        select(User).where(*where),
                        (users.c.created_at, users.c.uid),
                        False,
                        query.limit,
                        query.offset,
                        query.after,
                    )
                )
            )
            .scalars()
            .all()
        )
        if query.is_whole_list:
            total, exact = (await self._session.execute(kept("users"))).scalar_one(), True
        else:
            total, exact = bounded(
                (
                    await self._session.execute(bounded_count(select(users.c.uid).where(*where)))
                ).scalar_one()
            )
        return fetched_page(
            list(found),
            query.limit,
            None if query.after else query.offset,
            total,
            exact,
            user_position,
        )

    async def lock_active_admins(self) -> set[UUID]:
        active_admins = (users.c.role == Role.ADMIN) & (users.c.is_active == true())
        await self._sqlite_write_lock(active_admins)
        # PostgreSQL: the rows, locked in uid order (no deadlock between two callers). A
        # caller that waited re-reads them, so a row demoted meanwhile is left out.
        found = await self._session.execute(
            select(users.c.uid).where(active_admins).order_by(users.c.uid).with_for_update()
        )
        return set(found.scalars())

    async def _sqlite_write_lock(self, rows: ColumnElement[bool]) -> None:
        """SQLite has no row locks: a write that changes nothing (here, to `rows`) takes
        the database's write lock now, so the caller's reads and writes run without
        another writer. PostgreSQL locks the rows themselves (FOR UPDATE): nothing here."""
        bind = self._session.bind
        assert bind is not None  # sessions come from the engine's sessionmaker, bound to it
        if bind.dialect.name == "sqlite":
            await self._session.execute(update(users).where(rows).values(uid=users.c.uid))

    async def _one_where(self, condition: ColumnElement[bool]) -> User | None:
        result = await self._session.execute(select(User).where(condition))
        return result.scalars().first()


def _conditions(query: UserQuery) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if query.text is not None:
        escaped = user_search_key(query.text)
        for special in ("\\", "%", "_"):
            escaped = escaped.replace(special, "\\" + special)
        pattern = f"%{escaped}%"
        found.append(
            users.c.email.like(pattern, escape="\\")
            | func.lower(users.c.username).like(pattern, escape="\\")
        )
    if query.role is not None:
        found.append(users.c.role == query.role)
    if query.is_verified is not None:
        found.append(users.c.is_verified == query.is_verified)
    if query.is_active is not None:
        found.append(users.c.is_active == query.is_active)
    return found


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
