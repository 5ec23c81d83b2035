"""The JSON of the hot routes, written straight from the dataclasses with orjson.

FastAPI would otherwise copy a returned pydantic model into a dict, validate it again
against the response model and serialise it: for a catalogue page that is most of the
request's time. These functions give the same bytes (the same keys in the same order,
datetimes in UTC with `Z`, as pydantic writes them), and the pydantic models stay the
contract in the OpenAPI document; a unit test checks that each document validates
against its model and serialises to the very same JSON.

Tags and reviews inside a book are left as dataclasses: orjson writes a dataclass's fields
in order, which are exactly TagOut's and ReviewOut's keys, without a dict made per item in
Python (60 tags on a page of 20 books). The same unit test holds them to the models."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

import orjson
from starlette.responses import Response

from application.ports.books import BookDetail, BookView
from application.ports.pages import Page
from domain.users import User

T = TypeVar("T")
Document = dict[str, Any]


def _other(value: Any) -> Any:
    """What orjson leaves to us: asyncpg's UUID, a subclass orjson does not take as one."""
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_bytes(content: Any) -> bytes:
    """A document's JSON, as every JSONDocument writes it."""
    return orjson.dumps(content, default=_other, option=orjson.OPT_UTC_Z)


class JSONDocument(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json_bytes(content)


def book_document(view: BookView) -> Document:
    book = view.book
    return {
        "uid": book.uid,
        "title": book.title,
        "author": book.author,
        "publisher": book.publisher,
        "published_date": book.published_date,
        "page_count": book.page_count,
        "language": book.language,
        "owner_uid": book.owner_uid,
        "tags": view.tags,  # Tag: its fields are TagOut's
        "review_count": view.review_count,
        "average_rating": view.average_rating,
        "created_at": book.created_at,
        "updated_at": book.updated_at,
    }


def book_detail_document(detail: BookDetail) -> Document:
    return {**book_document(detail.view), "reviews": detail.newest_reviews}  # ReviewOut's


def page_document(page: Page[T], item: Callable[[T], Any]) -> Document:
    return {
        "items": [item(entry) for entry in page.items],
        "total": page.total,
        "total_exact": page.total_exact,
        "limit": page.limit,
        "offset": page.offset,
        "next_cursor": page.next_cursor,
    }


def as_is(entry: T) -> T:
    """An item whose dataclass fields are its response model's keys (Tag, Review)."""
    return entry


def user_document(user: User) -> Document:
    return {
        "uid": user.uid,
        "email": user.email,
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "role": user.role.value,
        "is_verified": user.is_verified,
        "is_active": user.is_active,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
    }
