"""A book in the catalogue, owned by the user who added it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from domain.errors import RuleViolation
from domain.text import check_single_line

TITLE_MAX_LENGTH = 255
AUTHOR_MAX_LENGTH = 255
PUBLISHER_MAX_LENGTH = 255
PAGE_COUNT_MAX = 100_000
# A BCP 47 style tag, any case: the rule and its words, for every entrypoint to show.
LANGUAGE_TAG = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
LANGUAGE_MAX_LENGTH = 35
LANGUAGE_RULE = "A language tag such as 'en' or 'pt-br'."
EDITABLE_FIELDS = ("title", "author", "publisher", "published_date", "page_count", "language")


def check_page_count(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= PAGE_COUNT_MAX:
        raise RuleViolation("page_count", f"A whole number from 1 to {PAGE_COUNT_MAX}.")
    return value


def check_language(raw: str) -> str:
    """A BCP 47 style tag such as `en`, `pt-br`; stored lower-case."""
    tag = raw.strip().lower()
    if not re.fullmatch(LANGUAGE_TAG, tag) or len(tag) > LANGUAGE_MAX_LENGTH:
        raise RuleViolation("language", LANGUAGE_RULE)
    return tag


def check_published_date(value: date) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise RuleViolation("published_date", "A calendar date, YYYY-MM-DD.")
    return value


@dataclass(frozen=True, slots=True)
class BookDetails:
    """The fields an owner writes, each checked."""

    title: str
    author: str
    publisher: str
    published_date: date
    page_count: int
    language: str

    def __post_init__(self) -> None:
        for name, max_length in (
            ("title", TITLE_MAX_LENGTH),
            ("author", AUTHOR_MAX_LENGTH),
            ("publisher", PUBLISHER_MAX_LENGTH),
        ):
            object.__setattr__(self, name, check_single_line(name, getattr(self, name), max_length))
        check_published_date(self.published_date)
        check_page_count(self.page_count)
        object.__setattr__(self, "language", check_language(self.language))


@dataclass(eq=False)
class Book:
    uid: UUID
    owner_uid: UUID
    title: str
    author: str
    publisher: str
    published_date: date
    page_count: int
    language: str
    created_at: datetime
    updated_at: datetime

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Book) and other.uid == self.uid

    def __hash__(self) -> int:
        return hash(self.uid)

    @classmethod
    def create(cls, uid: UUID, owner_uid: UUID, details: BookDetails, now: datetime) -> Book:
        return cls(
            uid,
            owner_uid,
            details.title,
            details.author,
            details.publisher,
            details.published_date,
            details.page_count,
            details.language,
            now,
            now,
        )

    def details(self) -> BookDetails:
        return BookDetails(
            self.title,
            self.author,
            self.publisher,
            self.published_date,
            self.page_count,
            self.language,
        )

    def revise(self, details: BookDetails, now: datetime) -> None:
        for name in EDITABLE_FIELDS:
            setattr(self, name, getattr(details, name))
        self.updated_at = now
