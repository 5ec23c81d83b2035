"""Adding, reading, listing, changing and removing books."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from application.accounts.sessions import Principal
from application.books.tags import ensure_tags
from application.paging import Cursors
from application.permissions import require_content_writer, require_owner_or_admin
from application.ports.books import BookDetail, BookQuery, BookReads, BookView, CatalogueWrites
from application.ports.clock import Clock
from application.ports.pages import Page, PageRequest
from application.ports.persistence import UnitOfWork, UnitOfWorkFactory
from application.preconditions import Precondition
from domain.books import EDITABLE_FIELDS, Book, BookDetails
from domain.errors import BookNotFound, RuleViolation, UserNotFound
from domain.tags import tag_key


class AddBook:
    def __init__(self, uow: UnitOfWorkFactory, writes: CatalogueWrites, clock: Clock) -> None:
        self._uow = uow
        self._writes = writes
        self._clock = clock

    async def execute(
        self, principal: Principal, details: BookDetails, tags: Sequence[str] = ()
    ) -> BookView:
        """The new book as readers will see it, known without reading it back: its tags,
        and no reviews yet."""
        require_content_writer(principal.user)
        book = Book.create(uuid.uuid4(), principal.user.uid, details, self._clock.now())
        if not tags:
            await self._writes.add_book(book)
            return BookView(book, [], 0, None)
        async with self._uow() as uow:
            await uow.books.add(book)
            found = await ensure_tags(uow, tags, self._clock)
            await uow.tags.attach(book.uid, [tag.uid for tag in found])
            await uow.commit()
        return BookView(book, sorted(found, key=lambda tag: (tag.key, tag.uid)), 0, None)


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


async def book_page(
    reads: BookReads, cursors: Cursors, list_name: str, query: BookQuery, request: PageRequest
) -> Page[BookView]:
    """A page of books `query` filters, as `request` asks (from its cursor, or at its
    offset), with the cursor of the next page."""
    filters, after = cursors.resume(list_name, request, query.filters())
    query = BookQuery.of_filters(filters, request.limit, request.offset, after)
    filters = {**filters, "sort": query.order.value}
    if matches_no_tag(query):
        return Page([], 0, query.limit, query.offset)
    return cursors.continued(list_name, filters, await reads.search(query))


class ListBooks:
    def __init__(self, reads: BookReads, cursors: Cursors) -> None:
        self._reads, self._cursors = reads, cursors

    async def execute(self, query: BookQuery, request: PageRequest | None = None) -> Page[BookView]:
        """`request` None: the query's own limit and offset."""
        request = request or PageRequest(query.limit, query.offset)
        return await book_page(self._reads, self._cursors, "books", query, request)


class ListUserBooks:
    """A user's books, newest first; 404 for a user who does not exist."""

    def __init__(self, uow: UnitOfWorkFactory, reads: BookReads, cursors: Cursors) -> None:
        self._uow, self._reads, self._cursors = uow, reads, cursors

    async def execute(
        self, user_uid: uuid.UUID, query: BookQuery, request: PageRequest | None = None
    ) -> Page[BookView]:
        request = request or PageRequest(query.limit, query.offset)
        async with self._uow() as uow:
            if await uow.users.get(user_uid) is None:
                raise UserNotFound()
        return await book_page(
            self._reads, self._cursors, "user-books", query.with_owner(user_uid), request
        )


class UpdateBook:
    """Only the fields sent change; the result is checked as a whole."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(
        self,
        principal: Principal,
        uid: uuid.UUID,
        changes: Mapping[str, Any],
        precondition: Precondition[BookDetail] | None = None,
    ) -> BookView:
        unknown = set(changes) - set(EDITABLE_FIELDS)
        if unknown:
            raise RuleViolation(sorted(unknown)[0], "This field cannot be changed.")
        async with self._uow() as uow:
            book = await uow.books.get(uid)
            if book is None:
                raise BookNotFound()
            require_owner_or_admin(principal.user, book.owner_uid)
            if precondition is not None:
                await _hold(uow, uid, precondition)
            if changes:
                book.revise(dataclasses.replace(book.details(), **changes), self._clock.now())
                await uow.books.update(book)
            view = await _view(uow, uid)  # in the same transaction, as it will be committed
            await uow.commit()
        return view


async def _hold(uow: UnitOfWork, uid: uuid.UUID, precondition: Precondition[BookDetail]) -> None:
    """Locks the book's row, then checks the caller's condition on the book as `GetBook`
    shows it now: a writer that waited for the lock sees what the one before it wrote."""
    detail = await uow.books.detail(uid) if await uow.books.lock(uid) else None
    if detail is None:
        raise BookNotFound()
    precondition(detail)


async def _view(uow: UnitOfWork, uid: uuid.UUID) -> BookView:
    detail = await uow.books.detail(uid)
    if detail is None:
        raise BookNotFound()
    return detail.view


class DeleteBook:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(
        self,
        principal: Principal,
        uid: uuid.UUID,
        precondition: Precondition[BookDetail] | None = None,
    ) -> None:
        async with self._uow() as uow:
            book = await uow.books.get(uid)
            if book is None:
                raise BookNotFound()
            require_owner_or_admin(principal.user, book.owner_uid)
            if precondition is not None:
                await _hold(uow, uid, precondition)
            await uow.books.delete(book)
            await uow.commit()
