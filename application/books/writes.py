"""`CatalogueWrites` in a unit of work: for stores with no single statement that does
a review's two writes (SQLite, the in-memory store)."""

from __future__ import annotations

from application.ports.persistence import UnitOfWorkFactory
from domain.books import Book
from domain.reviews import Review


class WritesInUnits:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def add_book(self, book: Book) -> None:
        async with self._uow() as uow:
            await uow.books.add(book)
            await uow.commit()

    async def add_review(self, review: Review) -> bool:
        async with self._uow() as uow:
            # The book's figures move first: that finds the book and holds it, so reviews
            # of one book count one after another; a second review by the same user is
            # refused by the store's uniqueness rule, and nothing of it is kept.
            if not await uow.books.adjust_ratings(review.book_uid, 1, review.rating):
                return False
            await uow.reviews.add(review)
            await uow.commit()
        return True
