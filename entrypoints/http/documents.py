"""The JSON of the hot routes, written straight from the dataclasses with orjson.

FastAPI would otherwise copy a returned pydantic model into a dict, validate it again
against the response model and serialise it: for a catalogue page that is most of the
request's time. These functions give the same bytes (the same keys in the same order,
datetimes in UTC with `Z`, as pydantic writes them), and the pydantic models stay the
contract in the OpenAPI document; a unit test checks that each document validates
against its model and serialises to the very same JSON."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

import orjson
from starlette.responses import Response

from application.ports.books import BookDetail, BookView, Page
from domain.reviews import Review
from domain.tags import Tag
from domain.users import User

T = TypeVar("T")
Document = dict[str, Any]


def _other(value: Any) -> Any:
    """What orjson leaves to us: asyncpg's UUID, a subclass orjson does not take as one."""
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class JSONDocument(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, default=_other, option=orjson.OPT_UTC_Z)


def tag_document(tag: Tag) -> Document:
    return {"uid": tag.uid, "name": tag.name, "created_at": tag.created_at}


def book_document(view: BookView) -> Document:
    book = view.book
    return {
        "uid": book.uid, "title": book.title, "author": book.author,
        "publisher": book.publisher, "published_date": book.published_date,
        "page_count": book.page_count, "language": book.language,
        "owner_uid": book.owner_uid, "tags": [tag_document(tag) for tag in view.tags],
        "review_count": view.review_count, "average_rating": view.average_rating,
        "created_at": book.created_at, "updated_at": book.updated_at,
    }


def review_document(review: Review) -> Document:
    return {"uid": review.uid, "book_uid": review.book_uid, "user_uid": review.user_uid,
            "rating": review.rating, "review_text": review.review_text,
            "created_at": review.created_at, "updated_at": review.updated_at}


def book_detail_document(detail: BookDetail) -> Document:
    return {**book_document(detail.view),
            "reviews": [review_document(review) for review in detail.newest_reviews]}


def page_document(page: Page[T], item: Callable[[T], Document]) -> Document:
    return {"items": [item(entry) for entry in page.items], "total": page.total,
            "limit": page.limit, "offset": page.offset}


def user_document(user: User) -> Document:
    return {"uid": user.uid, "email": user.email, "username": user.username,
            "first_name": user.first_name, "last_name": user.last_name,
            "role": user.role.value, "is_verified": user.is_verified,
            "is_active": user.is_active, "created_at": user.created_at,
            "updated_at": user.updated_at}
