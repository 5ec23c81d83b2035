"""Request and response bodies of the catalogue."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic.config import JsonDict
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from application.books.tags import MAX_TAGS_PER_REQUEST
from domain.books import (
    AUTHOR_MAX_LENGTH,
    LANGUAGE_MAX_LENGTH,
    LANGUAGE_RULE,
    LANGUAGE_TAG,
    PAGE_COUNT_MAX,
    PUBLISHER_MAX_LENGTH,
    TITLE_MAX_LENGTH,
)
from domain.reviews import RATING_MAX, RATING_MIN, REVIEW_TEXT_MAX_LENGTH
from domain.tags import TAG_NAME_MAX_LENGTH
from entrypoints.http.paging import TOTAL_DESCRIPTION
from entrypoints.http.patterns import (
    INTEGRAL,
    NON_BLANK_TEXT,
    PRINTABLE_TEXT,
    TAG_NAME_TEXT,
    CalendarDate,
)

T = TypeVar("T")
Title = Annotated[
    str, StringConstraints(min_length=1, max_length=TITLE_MAX_LENGTH, pattern=PRINTABLE_TEXT)
]
Author = Annotated[
    str, StringConstraints(min_length=1, max_length=AUTHOR_MAX_LENGTH, pattern=PRINTABLE_TEXT)
]
Publisher = Annotated[
    str, StringConstraints(min_length=1, max_length=PUBLISHER_MAX_LENGTH, pattern=PRINTABLE_TEXT)
]
PageCount = Annotated[int, Field(ge=1, le=PAGE_COUNT_MAX, strict=True), INTEGRAL]


def _language_tag(value: str) -> str:
    """The domain's rule, in the domain's words (not the pattern's text)."""
    if len(value) > LANGUAGE_MAX_LENGTH or not re.fullmatch(LANGUAGE_TAG, value):
        raise PydanticCustomError("language_tag", LANGUAGE_RULE)
    return value


Language = Annotated[
    str,
    AfterValidator(_language_tag),
    Field(
        description=LANGUAGE_RULE,
        json_schema_extra={
            "pattern": LANGUAGE_TAG,
            "minLength": 2,
            "maxLength": LANGUAGE_MAX_LENGTH,
        },
    ),
]
BOOK_EXAMPLE: JsonDict = {
    "title": "The Left Hand of Darkness",
    "author": "Ursula K. Le Guin",
    "publisher": "Ace Books",
    "published_date": "1969-03-01",
    "page_count": 286,
    "language": "en",
}


TagName = Annotated[
    str, StringConstraints(min_length=1, max_length=TAG_NAME_MAX_LENGTH, pattern=TAG_NAME_TEXT)
]
Rating = Annotated[int, Field(ge=RATING_MIN, le=RATING_MAX, strict=True), INTEGRAL]
ReviewText = Annotated[
    str, StringConstraints(min_length=1, max_length=REVIEW_TEXT_MAX_LENGTH, pattern=NON_BLANK_TEXT)
]


class BookIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{**BOOK_EXAMPLE, "tags": ["science fiction"]}]},
    )

    title: Title
    author: Author
    publisher: Publisher
    published_date: CalendarDate
    page_count: PageCount
    language: Language
    tags: Annotated[list[TagName], Field(max_length=MAX_TAGS_PER_REQUEST)] = []


class BookPatch(BaseModel):
    """Any subset of the book's fields; only those sent change. `null` is not a value."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"title": "x"}]})

    title: Title | SkipJsonSchema[None] = None
    author: Author | SkipJsonSchema[None] = None
    publisher: Publisher | SkipJsonSchema[None] = None
    published_date: CalendarDate | SkipJsonSchema[None] = None
    page_count: PageCount | SkipJsonSchema[None] = None
    language: Language | SkipJsonSchema[None] = None

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        return _refuse_nulls(data)


def _refuse_nulls(data: Any) -> Any:
    if isinstance(data, dict):
        for name, value in data.items():
            if value is None:
                raise ValueError(f"'{name}' cannot be null; leave it out to keep it")
    return data


class TagOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    uid: UUID
    name: str
    created_at: datetime


class TagIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "poetry"}]})

    name: TagName


class TagNamesIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"tags": [{"name": "classics"}, {"name": "poetry"}]}]},
    )

    tags: Annotated[list[TagIn], Field(min_length=1, max_length=MAX_TAGS_PER_REQUEST)]


class ReviewIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"rating": 5, "review_text": "A world that stays with you."}]
        },
    )

    rating: Rating
    review_text: ReviewText


class ReviewPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"rating": 4}]})

    rating: Rating | SkipJsonSchema[None] = None
    review_text: ReviewText | SkipJsonSchema[None] = None

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        return _refuse_nulls(data)


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
    model_config = ConfigDict(from_attributes=True)

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
    total: int = Field(description=TOTAL_DESCRIPTION)
    total_exact: bool = Field(description="False when `total` was counted up to its bound.")
    limit: int
    offset: int | None = Field(description="Null on a page reached by `cursor`.")
    next_cursor: str | None = Field(
        description=(
            "Continues the list after this page (`?cursor=`); null on the last page. A page "
            "with a next_cursor is full."
        )
    )
