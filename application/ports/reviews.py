"""Reviews and tags as the use cases reach them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from uuid import UUID

from application.ports.pages import Page, Position
from domain.reviews import Review
from domain.tags import Tag


def review_position(review: Review) -> Position:
    return (review.created_at, review.uid)


def tag_position(tag: Tag) -> Position:
    return (tag.key, tag.uid)


class ReviewRepository(Protocol):
    async def add(self, review: Review) -> None:
        """Raises ReviewExists if the user has reviewed the book (at add or at commit)."""

    async def get(self, uid: UUID) -> Review | None: ...

    async def update(self, review: Review) -> None: ...

    async def delete(self, review: Review) -> None: ...

    async def page(
        self,
        limit: int,
        offset: int,
        after: Position | None = None,
        book_uid: UUID | None = None,
        user_uid: UUID | None = None,
    ) -> Page[Review]:
        """Newest first (ties by uid), from the position `after` (created_at, uid) or at
        `offset`; the total is exact (kept: a book's, a user's, all reviews)."""


class TagRepository(Protocol):
    async def add(self, tag: Tag) -> None:
        """Raises TagExists when the name is taken, in any case (at add or at commit)."""

    async def get(self, uid: UUID) -> Tag | None: ...

    async def lock(self, uid: UUID) -> Tag | None:
        """`get`, holding the tag until the unit of work ends: no other writer changes it
        meanwhile."""

    async def update(self, tag: Tag) -> None:
        """Raises TagExists when the new name is taken."""

    async def delete(self, tag: Tag) -> None:
        """Also takes the tag off every book."""

    async def page(self, limit: int, offset: int, after: Position | None = None) -> Page[Tag]:
        """By name (case-insensitive), ties by uid; from the position `after` (the name's
        key, uid) or at `offset`; the total is exact (kept)."""

    async def ensure(self, names: Sequence[str], new_tags: Sequence[Tag]) -> list[Tag]:
        """The tags with these names, one per name; `new_tags` (same order) are stored for
        the names that have none. Safe when two requests create the same name at once."""

    async def attach(self, book_uid: UUID, tag_uids: Sequence[UUID]) -> None:
        """Attaching a tag a book already has changes nothing."""

    async def detach(self, book_uid: UUID, tag_uid: UUID) -> bool:
        """False if the book did not have the tag."""
