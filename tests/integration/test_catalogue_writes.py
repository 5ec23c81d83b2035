"""`CatalogueWrites` as the service plays it: one statement per write on PostgreSQL
(`SqlCatalogueWrites` on the catalogue's asyncpg pool), a unit of work on SQLite
(`WritesInUnits`). Both keep a book's figures, its tag links' copies of its average and
the kept counts exact, and store nothing of a refused review."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from adapters.inprocess.clock import SystemClock
from adapters.sqlalchemy.book_reads import PoolRows, rows_for
from adapters.sqlalchemy.book_writes import SqlCatalogueWrites
from adapters.sqlalchemy.tables import book_tag_ratings, reviews
from application.accounts.sessions import Principal
from application.books.tags import TagBook
from application.books.writes import WritesInUnits
from application.ports.books import BookQuery, BookSort, CatalogueWrites
from domain.books import Book
from domain.errors import ReviewExists
from domain.reviews import Review
from domain.tags import Tag
from tests.integration.sql_fixtures import assert_kept, make_user

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
async def rows(database_url: str, sql_engine) -> AsyncIterator[Any]:
    found = rows_for(database_url, sql_engine, size=4, timeout=5.0)
    yield found
    if isinstance(found, PoolRows):
        await found.aclose()


@pytest.fixture
def writes(rows: Any, uow_factory: Any) -> CatalogueWrites:
    """As the container chooses: statements where the pool is PostgreSQL's."""
    return SqlCatalogueWrites(rows) if isinstance(rows, PoolRows) else WritesInUnits(uow_factory)


async def readers(uow_factory: Any, count: int) -> list[uuid.UUID]:
    people = [make_user() for _ in range(count)]
    async with uow_factory() as uow:
        for person in people:
            await uow.users.add(person)
        await uow.commit()
    return [person.uid for person in people]


def a_book(owner: uuid.UUID) -> Book:
    return Book(
        uuid.uuid4(), owner, "Title", "Author", "Press", date(2000, 1, 1), 10, "en", NOW, NOW
    )


def a_review(book: Book, user: uuid.UUID, rating: int) -> Review:
    return Review(uuid.uuid4(), book.uid, user, rating, "text", NOW, NOW)


async def tagged_book(writes: CatalogueWrites, uow_factory: Any, owner: uuid.UUID) -> Book:
    book = a_book(owner)
    await writes.add_book(book)
    tag = Tag(uuid.uuid4(), "Pulp", NOW)
    async with uow_factory() as uow:
        await uow.tags.add(tag)
        await uow.tags.attach(book.uid, [tag.uid])
        await uow.commit()
    return book


async def figures(uow_factory: Any, book: Book) -> tuple[int, float | None, list[float | None]]:
    """The book's review count and average, and its tag links' copies of the average."""
    async with uow_factory() as uow:
        detail = await uow.books.detail(book.uid)
        copies = (
            await uow.session.execute(
                select(book_tag_ratings.c.average_rating).where(
                    book_tag_ratings.c.book_uid == book.uid
                )
            )
        ).scalars()
        return detail.view.review_count, detail.view.average_rating, list(copies)


async def test_a_book_is_stored_and_read(writes, uow_factory, sql_book_reads) -> None:
    (owner,) = await readers(uow_factory, 1)
    book = a_book(owner)
    await writes.add_book(book)
    page = await sql_book_reads.search(BookQuery(owner_uid=owner))
    assert [view.book for view in page.items] == [book]
    assert page.total == 1
    await assert_kept(uow_factory)


async def test_reviews_move_the_figures_and_the_tag_links(
    writes, uow_factory, sql_book_reads
) -> None:
    owner, first, second = await readers(uow_factory, 3)
    book = await tagged_book(writes, uow_factory, owner)
    assert await writes.add_review(a_review(book, first, 5))
    assert await writes.add_review(a_review(book, second, 2))
    assert await figures(uow_factory, book) == (2, 3.5, [3.5])
    # the tag's page in rating order reads the links' copy
    page = await sql_book_reads.search(BookQuery(tag="pulp", sort=BookSort.RATING_DESC))
    assert [(view.book.uid, view.average_rating) for view in page.items] == [(book.uid, 3.5)]
    await assert_kept(uow_factory)


async def test_a_review_of_no_book_stores_nothing(writes, uow_factory) -> None:
    owner, reader = await readers(uow_factory, 2)
    ghost = a_book(owner)  # never stored
    assert await writes.add_review(a_review(ghost, reader, 4)) is False
    async with uow_factory() as uow:
        assert (await uow.session.execute(select(reviews.c.uid))).all() == []
    await assert_kept(uow_factory)


async def test_a_second_review_by_the_same_user_changes_nothing(writes, uow_factory) -> None:
    owner, reader = await readers(uow_factory, 2)
    book = await tagged_book(writes, uow_factory, owner)
    first = a_review(book, reader, 4)
    assert await writes.add_review(first)
    with pytest.raises(ReviewExists):
        await writes.add_review(a_review(book, reader, 1))
    assert await figures(uow_factory, book) == (1, 4.0, [4.0])
    async with uow_factory() as uow:
        assert (await uow.session.execute(select(reviews.c.uid))).scalars().all() == [first.uid]
    await assert_kept(uow_factory)


async def test_concurrent_reviews_of_one_book_count_exactly(writes, uow_factory) -> None:
    owner, *people = await readers(uow_factory, 11)
    book = await tagged_book(writes, uow_factory, owner)
    ratings = [1 + i % 5 for i in range(len(people))]
    added = await asyncio.gather(
        *[
            writes.add_review(a_review(book, person, rating))
            for person, rating in zip(people, ratings, strict=True)
        ]
    )
    assert added == [True] * len(people)
    average = sum(ratings) / len(ratings)
    assert await figures(uow_factory, book) == (len(people), average, [average])
    await assert_kept(uow_factory)


async def test_tagging_waits_for_a_move_of_the_rating_and_copies_the_new_one(
    writes, uow_factory
) -> None:
    owner = make_user(is_verified=True)
    async with uow_factory() as uow:
        await uow.users.add(owner)
        await uow.commit()
    book = a_book(owner.uid)
    await writes.add_book(book)
    tag_book = TagBook(uow_factory, SystemClock())
    async with uow_factory() as moving:  # a review's move of the figures, not yet committed
        assert await moving.books.adjust_ratings(book.uid, 1, 4)
        tagging = asyncio.create_task(
            tag_book.attach(Principal(owner, claims=None), book.uid, ["Pulp"])
        )
        await asyncio.sleep(0.3)
        assert not tagging.done()  # it waits for the book's lock
        await moving.commit()
    await tagging
    assert await figures(uow_factory, book) == (1, 4.0, [4.0])


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_each_write_is_one_statement_on_postgresql(rows, writes, uow_factory) -> None:
    assert isinstance(writes, SqlCatalogueWrites)
    sent: list[str] = []
    rows.query_loggers.append(lambda record: sent.append(record.query))
    owner, reader = await readers(uow_factory, 2)
    book = a_book(owner)
    await writes.add_book(book)
    assert await writes.add_review(a_review(book, reader, 3))
    assert len(sent) == 2, sent  # no BEGIN, no COMMIT: each its own transaction
    assert await figures(uow_factory, book) == (1, 3.0, [])
