"""One transaction on its own AsyncSession per `async with`."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.sqlalchemy.books import SqlBookRepository
from adapters.sqlalchemy.users import SqlUserRepository, user_conflict
from application.ports.books import BookRepository
from application.ports.persistence import UserRepository


class SqlUnitOfWork:
    """Use as `async with SqlUnitOfWork(factory) as uow:`; leaving without commit rolls back.

    Uniqueness violations (at `commit()`, or at an autoflush inside the block) come out
    as EmailTaken / UsernameTaken.
    """

    users: UserRepository
    books: BookRepository

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("the unit of work is not active: use it in `async with`")
        return self._session

    async def __aenter__(self) -> Self:
        if self._session is not None:
            raise RuntimeError("this unit of work is already active")
        self._session = self._session_factory()
        self.users = SqlUserRepository(self._session)
        self.books = SqlBookRepository(self._session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None:
        session, self._session = self.session, None
        try:
            # Rolls back what was not committed and returns the connection. Unlike
            # rollback(), close() does not expire loaded objects: they stay readable.
            await session.close()
        except Exception:
            if exc is None:
                raise  # otherwise keep the error that ended the block
        if isinstance(exc, IntegrityError) and (conflict := user_conflict(exc)) is not None:
            raise conflict from exc

    async def commit(self) -> None:
        try:
            await self.session.commit()
        except IntegrityError as error:
            conflict = user_conflict(error)
            if conflict is None:
                raise
            raise conflict from error
