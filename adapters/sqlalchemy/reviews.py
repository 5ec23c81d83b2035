"""Reviews and tags in SQL (Core)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Executable, Select, Table, delete, insert, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.counts import kept, list_name
from adapters.sqlalchemy.keyset import keyset_page
from adapters.sqlalchemy.tables import book_tag_ratings, book_tags, books, reviews, tags
from application.ports.pages import Page, Position, fetched_page
from application.ports.reviews import review_position, tag_position
from domain.errors import ReviewExists, TagExists
from domain.reviews import Review
from domain.tags import Tag, tag_key

REVIEW_COLUMNS = [
    reviews.c[name]
    for name in ("uid", "book_uid", "user_uid", "rating", "review_text", "created_at", "updated_at")
]
NEWEST_KEYS = (reviews.c.created_at, reviews.c.uid)
TAG_COLUMNS = (tags.c.uid, tags.c.name, tags.c.created_at)


def to_review(row: RowMapping) -> Review:
    return Review(**{column.name: row[column.name] for column in REVIEW_COLUMNS})


def to_tag(row: RowMapping) -> Tag:
    return Tag(row["uid"], row["name"], row["created_at"])


def upsert_ignoring(
    session: AsyncSession, table: Table, index_elements: list[str]
) -> postgresql.Insert | sqlite.Insert:
    """INSERT ... ON CONFLICT DO NOTHING for the session's dialect."""
    bind = session.bind
    assert bind is not None  # sessions come from the engine's sessionmaker, bound to it
    dialect_insert = postgresql.insert if bind.dialect.name == "postgresql" else sqlite.insert
    return dialect_insert(table).on_conflict_do_nothing(index_elements=index_elements)


class SqlReviewRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, review: Review) -> None:
        values = {column.name: getattr(review, column.name) for column in REVIEW_COLUMNS}
        try:
            await self._session.execute(insert(reviews), values)
        except IntegrityError as error:  # the unit of work ends with this error
            raise ReviewExists() from error

    async def get(self, uid: UUID) -> Review | None:
        row = (
            (await self._session.execute(select(*REVIEW_COLUMNS).where(reviews.c.uid == uid)))
            .mappings()
            .first()
        )
        return None if row is None else to_review(row)

    async def update(self, review: Review) -> None:
        await self._session.execute(
            update(reviews)
            .where(reviews.c.uid == review.uid)
            .values(
                rating=review.rating, review_text=review.review_text, updated_at=review.updated_at
            )
        )

    async def delete(self, review: Review) -> None:
        await self._session.execute(delete(reviews).where(reviews.c.uid == review.uid))

    async def page(
        self,
        limit: int,
        offset: int,
        after: Position | None = None,
        book_uid: UUID | None = None,
        user_uid: UUID | None = None,
    ) -> Page[Review]:
        where = []
        if book_uid is not None:
            where.append(reviews.c.book_uid == book_uid)
            total = select(books.c.review_count).where(books.c.uid == book_uid)
        elif user_uid is not None:
            where.append(reviews.c.user_uid == user_uid)
            total = kept(list_name("reviews:user", user_uid))
        else:
            total = kept(list_name("reviews"))
        rows = (
            (
                await self._session.execute(
                    keyset_page(
                        select(*REVIEW_COLUMNS).where(*where),
                        NEWEST_KEYS,
                        True,
                        limit,
                        offset,
                        after,
                    )
                )
            )
            .mappings()
            .all()
        )
        count = (await self._session.execute(total)).scalar_one_or_none() or 0
        return fetched_page(
            [to_review(row) for row in rows],
            limit,
            None if after else offset,
            count,
            True,
            review_position,
        )


class SqlTagRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _write(self, statement: Executable) -> None:
        try:
            await self._session.execute(statement)
        except IntegrityError as error:  # the unit of work ends with this error
            raise TagExists() from error

    async def add(self, tag: Tag) -> None:
        await self._write(
            insert(tags).values(
                uid=tag.uid, name=tag.name, name_key=tag.key, created_at=tag.created_at
            )
        )

    async def get(self, uid: UUID) -> Tag | None:
        row = (
            (await self._session.execute(select(*TAG_COLUMNS).where(tags.c.uid == uid)))
            .mappings()
            .first()
        )
        return None if row is None else to_tag(row)

    async def lock(self, uid: UUID) -> Tag | None:
        # A write that changes nothing takes the row lock (PostgreSQL) or the write lock
        # (SQLite) first; the read after it sees what a writer before it committed.
        await self._session.execute(update(tags).where(tags.c.uid == uid).values(name=tags.c.name))
        return await self.get(uid)

    async def update(self, tag: Tag) -> None:
        await self._write(
            update(tags).where(tags.c.uid == tag.uid).values(name=tag.name, name_key=tag.key)
        )

    async def delete(self, tag: Tag) -> None:
        await self._session.execute(delete(tags).where(tags.c.uid == tag.uid))

    async def page(self, limit: int, offset: int, after: Position | None = None) -> Page[Tag]:
        rows = (
            (
                await self._session.execute(
                    keyset_page(
                        select(*TAG_COLUMNS),
                        (tags.c.name_key, tags.c.uid),
                        False,
                        limit,
                        offset,
                        after,
                    )
                )
            )
            .mappings()
            .all()
        )
        total = (await self._session.execute(kept(list_name("tags")))).scalar_one()
        return fetched_page(
            [to_tag(row) for row in rows],
            limit,
            None if after else offset,
            total,
            True,
            tag_position,
        )

    async def ensure(self, names: Sequence[str], new_tags: Sequence[Tag]) -> list[Tag]:
        keys = [tag_key(name) for name in names]
        if not keys:
            return []
        await self._session.execute(
            upsert_ignoring(self._session, tags, ["name_key"]),
            [
                {"uid": t.uid, "name": t.name, "name_key": t.key, "created_at": t.created_at}
                for t in new_tags
            ],
        )
        rows = (
            (
                await self._session.execute(
                    select(*TAG_COLUMNS, tags.c.name_key).where(tags.c.name_key.in_(keys))
                )
            )
            .mappings()
            .all()
        )
        by_key = {row["name_key"]: to_tag(row) for row in rows}
        return [by_key[key] for key in keys]

    async def attach(self, book_uid: UUID, tag_uids: Sequence[UUID]) -> None:
        """Each link with copies of its book's sort keys and its rating, as the book has
        them now (the caller holds the book's lock, so no review moves them meanwhile)."""
        if not tag_uids:
            return

        # The book's columns beside each tag's uid.
        def each_tag(*columns: Any) -> Select[*tuple[Any, ...]]:
            return (
                select(books.c.uid, tags.c.uid, *columns)
                .select_from(books.join(tags, true()))
                .where(books.c.uid == book_uid, tags.c.uid.in_(tag_uids))
            )

        copies = [books.c.created_at, books.c.title_key, books.c.language]
        await self._session.execute(
            upsert_ignoring(self._session, book_tags, ["book_uid", "tag_uid"]).from_select(
                ["book_uid", "tag_uid", "created_at", "title_key", "language"], each_tag(*copies)
            )
        )
        await self._session.execute(
            upsert_ignoring(self._session, book_tag_ratings, ["book_uid", "tag_uid"]).from_select(
                ["book_uid", "tag_uid", "average_rating", "language"],
                each_tag(books.c.average_rating, books.c.language),
            )
        )

    async def detach(self, book_uid: UUID, tag_uid: UUID) -> bool:
        result = await self._session.execute(
            delete(book_tags).where(
                book_tags.c.book_uid == book_uid, book_tags.c.tag_uid == tag_uid
            )
        )
        # A DELETE gives a CursorResult, which `execute` is typed as Result.
        return bool(cast(CursorResult[Any], result).rowcount)
