"""Adding, reading, listing, changing and removing books."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from application.accounts.sessions import Principal
from application.books.permissions import require_content_writer, require_owner_or_admin
from application.books.tags import ensure_tags
from application.ports.books import BookDetail, BookQuery, BookReads, BookView, Page
from application.ports.clock import Clock
from application.ports.persistence import UnitOfWork, UnitOfWorkFactory
from domain.books import EDITABLE_FIELDS, Book, BookDetails
from domain.errors import BookNotFound, RuleViolation, UserNotFound
from domain.tags import tag_key


class AddBook:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, principal: Principal, details: BookDetails,
                      tags: Sequence[str] = ()) -> BookView:
        require_content_writer(principal.user)
        book = Book.create(uuid.uuid4(), principal.user.uid, details, self._clock.now())
        async with self._uow() as uow:
            await uow.books.add(book)
            if tags:
                found = await ensure_tags(uow, tags, self._clock)
                await uow.tags.attach(book.uid, [tag.uid for tag in found])
            await uow.commit()
            return await _view(uow, book.uid)


class RepositoryBookReads:
    """`BookReads` through a unit of work's book repository: for stores with no read
    adapter of their own (SQLite, the in-memory doubles)."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def detail(self, uid: uuid.UUID) -> BookDetail | None:
        async with self._uow() as uow:
            return await uow.books.detail(uid)

    async def search(self, query: BookQuery) -> Page[BookView]:
        async with self._uow() as uow:
            return await uow.books.search(query)


class GetBook:
    def __init__(self, reads: BookReads) -> None:
        self._reads = reads

    async def execute(self, uid: uuid.UUID) -> BookDetail:
        """The book with its tags, figures and newest reviews, in a fixed few queries."""
        detail = await self._reads.detail(uid)
        if detail is None:
            raise BookNotFound()
        return detail


def matches_no_tag(query: BookQuery) -> bool:
    """A filter by a name no tag can have (it breaks the tag rules) finds nothing: it is a
    search, not a tag being written, so not a 422."""
    if query.tag is None:
        return False
    try:
        tag_key(query.tag)
    except RuleViolation:
        return True
    return False


class ListBooks:
    def __init__(self, reads: BookReads) -> None:
        self._reads = reads

    async def execute(self, query: BookQuery) -> Page[BookView]:
        if matches_no_tag(query):
            return Page([], 0, query.limit, query.offset)
        return await self._reads.search(query)


class ListUserBooks:
    """A user's books, newest first; 404 for a user who does not exist."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(self, user_uid: uuid.UUID, query: BookQuery) -> Page[BookView]:
        async with self._uow() as uow:
            if await uow.users.get(user_uid) is None:
                raise UserNotFound()
            if matches_no_tag(query):
                return Page([], 0, query.limit, query.offset)
            return await uow.books.search(dataclasses.replace(query, owner_uid=user_uid))


class UpdateBook:
    """Only the fields sent change; the result is checked as a whole."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(
        self, principal: Principal, uid: uuid.UUID, changes: Mapping[str, Any]
    ) -> BookView:
        unknown = set(changes) - set(EDITABLE_FIELDS)
        if unknown:
            raise RuleViolation(sorted(unknown)[0], "This field cannot be changed.")
        async with self._uow() as uow:
            book = await uow.books.get(uid)
            if book is None:
                raise BookNotFound()
            require_owner_or_admin(principal.user, book.owner_uid)
            if changes:
                book.revise(dataclasses.replace(book.details(), **changes), self._clock.now())
                await uow.books.update(book)
                await uow.commit()
            return await _view(uow, uid)


async def _view(uow: UnitOfWork, uid: uuid.UUID) -> BookView:
    detail = await uow.books.detail(uid)
    if detail is None:
        raise BookNotFound()
    return detail.view


class DeleteBook:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(self, principal: Principal, uid: uuid.UUID) -> None:
        async with self._uow() as uow:
            book = await uow.books.get(uid)
            if book is None:
                raise BookNotFound()
            require_owner_or_admin(principal.user, book.owner_uid)
            await uow.books.delete(book)
            await uow.commit()
