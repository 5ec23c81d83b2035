"""One transaction on its own AsyncSession per `async with`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Self

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.sqlalchemy.books import SqlBookRepository
from adapters.sqlalchemy.engine import DATABASE_ERRORS
from adapters.sqlalchemy.outbox import SqlOutboxRepository, no_request_id, no_trace_context
from adapters.sqlalchemy.reviews import SqlReviewRepository, SqlTagRepository
from adapters.sqlalchemy.users import SqlUserRepository, user_conflict
from application.ports.books import BookRepository
from application.ports.outbox import OutboxRepository
from application.ports.persistence import UserRepository
from application.ports.reviews import ReviewRepository, TagRepository


class SqlUnitOfWork:
    """Use as `async with SqlUnitOfWork(factory) as uow:`; leaving without commit rolls back.

    Uniqueness violations (at `commit()`, or at an autoflush inside the block) come out
    as EmailTaken / UsernameTaken, a database that cannot serve now as ServiceUnavailable.
    """

    users: UserRepository
    books: BookRepository
    reviews: ReviewRepository
    tags: TagRepository
    outbox: OutboxRepository

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        request_id: Callable[[], str | None] = no_request_id,
        trace_context: Callable[[], Mapping[str, str] | None] = no_trace_context,
    ) -> None:
        self._session_factory = session_factory
        self._request_id = request_id  # stamped on outbox jobs, for the logs
        self._trace_context = trace_context  # and the trace their runs continue
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("the unit of work is not active: use it in `async with`")
        return self._session

    async def __aenter__(self) -> Self:
        if self._session is not None:
            raise RuntimeError("this unit of work is already active")
        self._session = await self._open()
        self.users = SqlUserRepository(self._session)
        self.books = SqlBookRepository(self._session)
        self.reviews = SqlReviewRepository(self._session)
        self.tags = SqlTagRepository(self._session)
        self.outbox = SqlOutboxRepository(self._session, self._request_id, self._trace_context)
        return self

    async def _open(self) -> AsyncSession:
        """The session of this unit of work (a subclass may choose its database)."""
        return self._session_factory()

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
        except Exception as closing:
            if exc is None:
                DATABASE_ERRORS.raise_for(closing)
                raise  # otherwise keep the error that ended the block
        if isinstance(exc, IntegrityError) and (conflict := user_conflict(exc)) is not None:
            raise conflict from exc
        DATABASE_ERRORS.raise_for(exc)

    async def commit(self) -> None:
        try:
            await self.session.commit()
        except IntegrityError as error:
            conflict = user_conflict(error)
            if conflict is None:
                raise
            raise conflict from error
