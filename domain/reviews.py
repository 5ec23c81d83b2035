"""A review: one user's rating and words about one book."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.errors import RuleViolation

RATING_MIN, RATING_MAX = 1, 5
REVIEW_TEXT_MAX_LENGTH = 5000


def check_rating(value: int) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not RATING_MIN <= value <= RATING_MAX
    ):
        raise RuleViolation("rating", f"A whole number from {RATING_MIN} to {RATING_MAX}.")
    return value


def check_review_text(raw: str) -> str:
    text = unicodedata.normalize("NFC", raw).strip()
    if not text or len(text) > REVIEW_TEXT_MAX_LENGTH or "\x00" in text:
        raise RuleViolation("review_text", f"1 to {REVIEW_TEXT_MAX_LENGTH} characters.")
    return text


@dataclass(eq=False)
class Review:
    uid: UUID
    book_uid: UUID
    user_uid: UUID
    rating: int
    review_text: str
    created_at: datetime
    updated_at: datetime

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Review) and other.uid == self.uid

    def __hash__(self) -> int:
        return hash(self.uid)

    @classmethod
    def write(
        cls, uid: UUID, book_uid: UUID, user_uid: UUID, rating: int, text: str, now: datetime
    ) -> Review:
        return cls(uid, book_uid, user_uid, check_rating(rating), check_review_text(text), now, now)

    def revise(self, now: datetime, rating: int | None = None, text: str | None = None) -> int:
        """Apply the changes sent; returns how much the rating moved."""
        before = self.rating
        if rating is not None:
            self.rating = check_rating(rating)
        if text is not None:
            self.review_text = check_review_text(text)
        self.updated_at = now
        return self.rating - before
