"""Request and response bodies of the catalogue."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from domain.books import AUTHOR_MAX_LENGTH, PAGE_COUNT_MAX, PUBLISHER_MAX_LENGTH, TITLE_MAX_LENGTH

T = TypeVar("T")
Title = Annotated[str, StringConstraints(min_length=1, max_length=TITLE_MAX_LENGTH)]
Author = Annotated[str, StringConstraints(min_length=1, max_length=AUTHOR_MAX_LENGTH)]
Publisher = Annotated[str, StringConstraints(min_length=1, max_length=PUBLISHER_MAX_LENGTH)]
PageCount = Annotated[int, Field(ge=1, le=PAGE_COUNT_MAX)]
Language = Annotated[str, StringConstraints(min_length=2, max_length=35,
                                            pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]
BOOK_EXAMPLE = {"title": "The Left Hand of Darkness", "author": "Ursula K. Le Guin",
                "publisher": "Ace Books", "published_date": "1969-03-01", "page_count": 286,
                "language": "en"}


class BookIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [BOOK_EXAMPLE]})

    title: Title
    author: Author
    publisher: Publisher
    published_date: date
    page_count: PageCount
    language: Language


class BookPatch(BaseModel):
    """Any subset of the book's fields; only those sent change. `null` is not a value."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"title": "x"}]})

    title: Title | None = None
    author: Author | None = None
    publisher: Publisher | None = None
    published_date: date | None = None
    page_count: PageCount | None = None
    language: Language | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name, value in data.items():
                if value is None:
                    raise ValueError(f"'{name}' cannot be null; leave it out to keep it")
        return data


class TagOut(BaseModel):
    uid: UUID
    name: str
    created_at: datetime


class BookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    uid: UUID
    title: str
    author: str
    publisher: str
    published_date: date
    page_count: int
    language: str
    owner_uid: UUID
    tags: list[TagOut] = []
    review_count: int = 0
    average_rating: float | None = None
    created_at: datetime
    updated_at: datetime


class ReviewOut(BaseModel):
    uid: UUID
    book_uid: UUID
    user_uid: UUID
    rating: int
    review_text: str
    created_at: datetime
    updated_at: datetime


class BookDetailOut(BookOut):
    reviews: list[ReviewOut] = Field(default=[], description="The newest reviews, at most 10.")


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
