"""The hot routes' hand-written JSON documents are byte for byte what the pydantic models
of the contract would write, and validate against them."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from asyncpg.pgproto.pgproto import UUID as PostgresUUID
from pydantic import BaseModel

from application.ports.books import BookDetail, BookView, Page
from domain.books import Book
from domain.reviews import Review
from domain.tags import Tag
from domain.users import Role, User
from entrypoints.http.book_schemas import BookDetailOut, BookOut, PageOut
from entrypoints.http.documents import (
    JSONDocument,
    book_detail_document,
    book_document,
    page_document,
    user_document,
)
from entrypoints.http.schemas import UserOut

WHOLE_SECOND = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
FRACTION = datetime(2026, 3, 1, 12, 0, 0, 120000, tzinfo=UTC)


def book(average: float | None, *, tags: int = 2, uid: uuid.UUID | None = None) -> BookView:
    return BookView(
        Book(
            uid or uuid.uuid4(),
            uuid.uuid4(),
            "Ωmega “quoted” \\ title",
            "Ursula K. Le Guin",
            "Ace",
            date(1969, 3, 1),
            286,
            "en",
            WHOLE_SECOND,
            FRACTION,
        ),
        [Tag(uuid.uuid4(), f"tag {n} ß", FRACTION) for n in range(tags)],
        3 if average is not None else 0,
        average,
    )


def same_as_pydantic(document: dict, model: type[BaseModel]) -> None:
    assert JSONDocument(document).body == model.model_validate(document).model_dump_json().encode()


@pytest.mark.parametrize("average", [None, 4.0, 10 / 3, 1.0000000000000002])
def test_a_book_is_written_as_its_model_writes_it(average: float | None) -> None:
    same_as_pydantic(book_document(book(average)), BookOut)


def test_a_book_with_reviews_and_asyncpgs_uuids() -> None:
    uid = PostgresUUID(str(uuid.uuid4()))  # what the PostgreSQL read adapter hands over
    view = book(4.5, tags=0, uid=uid)
    reviews = [
        Review(
            uuid.uuid4(), uid, uuid.uuid4(), 5, "Line\nbreak \u2028 and 😀", FRACTION, WHOLE_SECOND
        )
    ]
    document = book_detail_document(BookDetail(view, reviews))
    same_as_pydantic(document, BookDetailOut)
    assert f'"uid":"{uid}"'.encode() in JSONDocument(document).body


def test_a_page_of_books_and_an_empty_page() -> None:
    page = Page([book(2.5), book(None)], 2, 20, 0)
    same_as_pydantic(page_document(page, book_document), PageOut[BookOut])
    same_as_pydantic(page_document(Page([], 0, 5, 100), book_document), PageOut[BookOut])


def test_a_user_never_shows_the_password_hash() -> None:
    user = User(
        uuid.uuid4(),
        "ada@example.com",
        "ada",
        "Ada",
        "Lovelace",
        "$argon2id$secret",
        WHOLE_SECOND,
        FRACTION,
        Role.ADMIN,
        True,
        True,
    )
    document = user_document(user)
    same_as_pydantic(document, UserOut)
    assert b"argon2" not in JSONDocument(document).body
