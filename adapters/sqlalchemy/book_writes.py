"""`CatalogueWrites` on PostgreSQL: each write one statement, in a transaction of its own
(autocommit), on the catalogue's asyncpg pool (`book_reads.PoolRows`).

A unit of work would spend a round trip on BEGIN and one on COMMIT around the statement,
and a review's three writes would take three more; here each write is one round trip.
A review is one statement of data-modifying CTEs: the book's figures move (which finds
and locks the book, so reviews of one book count one after another), the rating rows of
its tag links (`book_tag_ratings`) take the new average, and the review is inserted from
the moved row, so that no review is stored for a book that does not exist. The
uniqueness rule refuses a second review by the same user, and with it the whole
statement.
"""

from __future__ import annotations

import asyncpg
from sqlalchemy import Select, bindparam, func, insert, select, update

from adapters.sqlalchemy.book_reads import PoolRows
from adapters.sqlalchemy.books import BOOK_INSERT, MOVED_RATINGS, book_values
from adapters.sqlalchemy.reviews import REVIEW_COLUMNS
from adapters.sqlalchemy.tables import book_tag_ratings, reviews
from domain.books import Book
from domain.errors import ReviewExists
from domain.reviews import Review


def _review_statement() -> Select[int]:
    moved = MOVED_RATINGS.returning(
        MOVED_RATINGS.table.c.uid, MOVED_RATINGS.table.c.average_rating
    ).cte("moved")
    copied = (
        update(book_tag_ratings)
        .where(book_tag_ratings.c.book_uid == moved.c.uid)
        .values(average_rating=moved.c.average_rating)
        .cte("copied")
    )
    values = [
        moved.c.uid
        if column.name == "book_uid"
        else bindparam(f"review_{column.name}", type_=column.type)
        for column in REVIEW_COLUMNS
    ]
    added = (
        insert(reviews)
        .from_select([column.name for column in REVIEW_COLUMNS], select(*values))
        .returning(reviews.c.uid)
        .cte("added")
    )
    return select(func.count().label("added")).select_from(added).add_cte(copied)


ADD_REVIEW = _review_statement()  # built once: building costs more than running


class SqlCatalogueWrites:
    def __init__(self, rows: PoolRows) -> None:
        self._rows = rows

    async def add_book(self, book: Book) -> None:
        await self._rows.write(BOOK_INSERT, book_values(book))

    async def add_review(self, review: Review) -> bool:
        values = {
            f"review_{column.name}": getattr(review, column.name) for column in REVIEW_COLUMNS
        }
        values.update(book=review.book_uid, count_delta=1, sum_delta=review.rating)
        try:
            rows = await self._rows.write(ADD_REVIEW, values)
        except asyncpg.IntegrityConstraintViolationError as error:
            raise ReviewExists() from error
        added: int = rows[0]["added"]
        return added == 1
