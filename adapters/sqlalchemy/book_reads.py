"""`BookReads` on an engine of its own: each read one statement, outside any transaction.

A read borrows a pooled connection in autocommit mode (no BEGIN and no ROLLBACK around
its one statement; `create_engine(reads_only=True)`) and gives it back. A connection that
the server closed while it sat in the pool fails its read; the read is tried once more,
on a fresh connection, since reading twice changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import Select
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sqlalchemy.catalogue import (
    PageShape,
    detail_statement,
    page_parameters,
    page_statement,
    to_detail,
    to_page,
)
from application.ports.books import BookDetail, BookQuery, BookView
from application.ports.pages import Page


class SqlBookReads:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name

    async def _rows(self, statement: Select, values: dict[str, Any]) -> Sequence[RowMapping]:
        for attempt in (1, 2):
            try:
                async with self._engine.connect() as connection:
                    return (await connection.execute(statement, values)).mappings().all()
            except DBAPIError as error:
                if attempt == 2 or not error.connection_invalidated:
                    raise
        raise AssertionError("unreachable")

    async def detail(self, uid: UUID) -> BookDetail | None:
        rows = await self._rows(detail_statement(self._dialect), {"uid": uid})
        return to_detail(rows[0]) if rows else None

    async def search(self, query: BookQuery) -> Page[BookView]:
        statement = page_statement(self._dialect, PageShape.of(query))
        return to_page(query, await self._rows(statement, page_parameters(query)))


