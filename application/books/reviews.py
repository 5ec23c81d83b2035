"""Reviewing books: one review per user per book; the book's figures move with them."""

from __future__ import annotations

import uuid

from application.accounts.sessions import Principal
from application.paging import Cursors
from application.permissions import (
    require_admin,
    require_author,
    require_content_writer,
    require_owner_or_admin,
)
from application.ports.books import CatalogueWrites
from application.ports.clock import Clock
from application.ports.pages import Page, PageRequest
from application.ports.persistence import UnitOfWorkFactory
from application.preconditions import Precondition
from domain.errors import BookNotFound, ReviewNotFound, UserNotFound
from domain.reviews import Review


class ReviewBook:
    def __init__(self, writes: CatalogueWrites, clock: Clock) -> None:
        self._writes = writes
        self._clock = clock

    async def execute(
        self, principal: Principal, book_uid: uuid.UUID, rating: int, text: str
    ) -> Review:
        require_content_writer(principal.user)
        review = Review.write(
            uuid.uuid4(), book_uid, principal.user.uid, rating, text, self._clock.now()
        )
        if not await self._writes.add_review(review):
            raise BookNotFound()
        return review


class EditReview:
    """Only its author changes a review."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(
        self,
        principal: Principal,
        uid: uuid.UUID,
        rating: int | None = None,
        text: str | None = None,
        precondition: Precondition[Review] | None = None,
    ) -> Review:
        require_content_writer(principal.user)
        async with self._uow() as uow:
            review = await uow.reviews.get(uid)
            if review is None or not await uow.books.lock(review.book_uid):
                raise ReviewNotFound()
            review = await uow.reviews.get(uid)  # read again under the book's lock
            if review is None:
                raise ReviewNotFound()
            require_author(principal.user, review.user_uid)
            if precondition is not None:
                precondition(review)
            moved = review.revise(self._clock.now(), rating, text)
            await uow.reviews.update(review)
            await uow.books.adjust_ratings(review.book_uid, 0, moved)
            await uow.commit()
        return review


class DeleteReview:
    """Its author or an admin removes a review."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(
        self, principal: Principal, uid: uuid.UUID, precondition: Precondition[Review] | None = None
    ) -> None:
        require_content_writer(principal.user)
        async with self._uow() as uow:
            review = await uow.reviews.get(uid)
            if review is None or not await uow.books.lock(review.book_uid):
                raise ReviewNotFound()
            review = await uow.reviews.get(uid)
            if review is None:
                raise ReviewNotFound()
            require_owner_or_admin(principal.user, review.user_uid)
            if precondition is not None:
                precondition(review)
            await uow.reviews.delete(review)
            await uow.books.adjust_ratings(review.book_uid, -1, -review.rating)
            await uow.commit()


class GetReview:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(self, uid: uuid.UUID) -> Review:
        async with self._uow() as uow:
            review = await uow.reviews.get(uid)
        if review is None:
            raise ReviewNotFound()
        return review


class ListReviews:
    """A book's reviews, a user's reviews (anyone), or all reviews (admins only); newest
    first, each a list of its own for cursors."""

    def __init__(self, uow: UnitOfWorkFactory, cursors: Cursors) -> None:
        self._uow, self._cursors = uow, cursors

    async def for_book(self, book_uid: uuid.UUID, request: PageRequest) -> Page[Review]:
        filters = {"book_uid": str(book_uid)}
        _, after = self._cursors.resume("book-reviews", request, filters)
        async with self._uow() as uow:
            if await uow.books.get(book_uid) is None:
                raise BookNotFound()
            page = await uow.reviews.page(request.limit, request.offset, after, book_uid=book_uid)
        return self._cursors.continued("book-reviews", filters, page)

    async def for_user(self, user_uid: uuid.UUID, request: PageRequest) -> Page[Review]:
        filters = {"user_uid": str(user_uid)}
        _, after = self._cursors.resume("user-reviews", request, filters)
        async with self._uow() as uow:
            if await uow.users.get(user_uid) is None:
                raise UserNotFound()
            page = await uow.reviews.page(request.limit, request.offset, after, user_uid=user_uid)
        return self._cursors.continued("user-reviews", filters, page)

    async def all(self, principal: Principal, request: PageRequest) -> Page[Review]:
        require_admin(principal)
        _, after = self._cursors.resume("reviews", request, {})
        async with self._uow() as uow:
            page = await uow.reviews.page(request.limit, request.offset, after)
        return self._cursors.continued("reviews", {}, page)
