"""What every persistence adapter must do as the SQL schema does: its uniqueness rules and
its cascades. Each check takes a unit-of-work factory on an empty store; the SQL adapter
runs them on SQLite and PostgreSQL (tests/integration), the unit tests' in-memory store
on itself (tests/unit), so the fakes cannot drift from the database they stand for."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from uuid import uuid4

import pytest

from application.ports.persistence import UnitOfWorkFactory
from domain.books import Book
from domain.errors import EmailTaken, ReviewExists, TagExists, UsernameTaken
from domain.reviews import Review
from domain.tags import Tag
from domain.users import User

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def a_user(email: str | None = None, username: str | None = None) -> User:
    mark = uuid4().hex[:8]
    return User(
        uuid4(),
        email or f"reader-{mark}@example.com",
        username or f"reader_{mark}",
        "Ada",
        "Lovelace",
        "$argon2id$x",
        created_at=NOW,
        updated_at=NOW,
    )


def a_book(owner: User) -> Book:
    return Book(uuid4(), owner.uid, "Dune", "Frank Herbert", "Chilton", date(1965, 8, 1), 412,
                "en", NOW, NOW)  # fmt: skip


def a_review(book: Book, author: User) -> Review:
    return Review(uuid4(), book.uid, author.uid, 4, "Sand.", NOW, NOW)


async def added(uow: UnitOfWorkFactory, *users: User, books: tuple[Book, ...] = ()) -> None:
    async with uow() as unit:
        for user in users:
            await unit.users.add(user)
        for book in books:
            await unit.books.add(book)
        await unit.commit()


async def emails_are_unique(uow: UnitOfWorkFactory) -> None:
    await added(uow, a_user(email="ada@example.com"))
    with pytest.raises(EmailTaken):
        await added(uow, a_user(email="ada@example.com"))


async def usernames_are_unique_whatever_their_case(uow: UnitOfWorkFactory) -> None:
    await added(uow, a_user(username="Ada"))
    with pytest.raises(UsernameTaken):
        await added(uow, a_user(username="aDA"))


async def a_user_reviews_a_book_once(uow: UnitOfWorkFactory) -> None:
    owner = a_user()
    book = a_book(owner)
    await added(uow, owner, books=(book,))
    async with uow() as unit:
        await unit.reviews.add(a_review(book, owner))
        await unit.commit()
    with pytest.raises(ReviewExists):
        async with uow() as unit:
            await unit.reviews.add(a_review(book, owner))
            await unit.commit()


async def tag_names_are_unique_whatever_their_case(uow: UnitOfWorkFactory) -> None:
    async with uow() as unit:
        await unit.tags.add(Tag(uuid4(), "Science Fiction", NOW))
        await unit.commit()
    with pytest.raises(TagExists):
        async with uow() as unit:
            await unit.tags.add(Tag(uuid4(), "science fiction", NOW))
            await unit.commit()


async def a_deleted_book_takes_its_reviews_and_tag_links(uow: UnitOfWorkFactory) -> None:
    owner = a_user()
    book, kept = a_book(owner), a_book(owner)
    tag = Tag(uuid4(), "Classics", NOW)
    review = a_review(book, owner)
    await added(uow, owner, books=(book, kept))
    async with uow() as unit:
        await unit.tags.add(tag)
        await unit.reviews.add(review)
        await unit.tags.attach(book.uid, [tag.uid])
        await unit.tags.attach(kept.uid, [tag.uid])
        await unit.commit()
    async with uow() as unit:
        stored = await unit.books.get(book.uid)
        assert stored is not None
        await unit.books.delete(stored)
        await unit.commit()
    async with uow() as unit:
        assert await unit.reviews.get(review.uid) is None
        assert not await unit.tags.detach(book.uid, tag.uid)  # the link went with the book
        assert await unit.tags.get(tag.uid) is not None  # the tag stays
        assert await unit.tags.detach(kept.uid, tag.uid)  # and so do its other links


async def a_deleted_tag_takes_its_links(uow: UnitOfWorkFactory) -> None:
    owner = a_user()
    book = a_book(owner)
    tag = Tag(uuid4(), "Poetry", NOW)
    await added(uow, owner, books=(book,))
    async with uow() as unit:
        await unit.tags.add(tag)
        await unit.tags.attach(book.uid, [tag.uid])
        await unit.commit()
    async with uow() as unit:
        await unit.tags.delete(tag)
        await unit.commit()
    async with uow() as unit:
        detail = await unit.books.detail(book.uid)
        assert detail is not None and detail.view.tags == []


PERSISTENCE_CHECKS: list[Callable[[UnitOfWorkFactory], Awaitable[None]]] = [
    emails_are_unique,
    usernames_are_unique_whatever_their_case,
    a_user_reviews_a_book_once,
    tag_names_are_unique_whatever_their_case,
    a_deleted_book_takes_its_reviews_and_tag_links,
    a_deleted_tag_takes_its_links,
]
