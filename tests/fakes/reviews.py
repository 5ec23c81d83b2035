"""Reviews and tags in dicts, with the SQL adapters' orders and rules."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from uuid import UUID

from application.ports.pages import Page, Position, fetched_page
from application.ports.reviews import review_position, tag_position
from domain.reviews import Review
from domain.tags import Tag, tag_key
from tests.fakes.rows import StagedRows

T = TypeVar("T")

Link = tuple[UUID, UUID]  # (book_uid, tag_uid)


def newest_first(reviews: list[Review]) -> list[Review]:
    return sorted(reviews, key=lambda r: (r.created_at, r.uid), reverse=True)


def paged(
    ordered: list[T],
    limit: int,
    offset: int,
    after: Position | None,
    total: int,
    exact: bool,
    position_of: Callable[[T], Any],
) -> Page[T]:
    """The page of `ordered` (already from `after`, if given) as the SQL adapters read it."""
    start = 0 if after is not None else offset
    return fetched_page(
        ordered[start : start + limit + 1],
        limit,
        None if after is not None else offset,
        total,
        exact,
        position_of,
    )


def from_position(
    ordered: list[T], after: Position | None, descending: bool, position_of: Callable[[T], Any]
) -> list[T]:
    if after is None:
        return ordered
    return [
        item
        for item in ordered
        if (position_of(item) < after if descending else position_of(item) > after)
    ]


class MemoryReviewRepository:
    def __init__(self, rows: StagedRows[UUID, Review]) -> None:
        self._rows = rows

    async def add(self, review: Review) -> None:
        self._rows.put(review.uid, review)

    async def get(self, uid: UUID) -> Review | None:
        return self._rows.get(uid)

    async def update(self, review: Review) -> None:
        self._rows.put(review.uid, review)

    async def delete(self, review: Review) -> None:
        self._rows.remove(review.uid)

    async def page(
        self,
        limit: int,
        offset: int,
        after: Position | None = None,
        book_uid: UUID | None = None,
        user_uid: UUID | None = None,
    ) -> Page[Review]:
        found = newest_first(
            [
                r
                for r in self._rows.values()
                if (book_uid is None or r.book_uid == book_uid)
                and (user_uid is None or r.user_uid == user_uid)
            ]
        )
        rest = from_position(found, after, True, review_position)
        return paged(rest, limit, offset, after, len(found), True, review_position)


class MemoryTagRepository:
    def __init__(self, rows: StagedRows[UUID, Tag], links: StagedRows[Link, int]) -> None:
        self._rows = rows
        self._links = links

    async def add(self, tag: Tag) -> None:
        self._rows.put(tag.uid, tag)

    async def get(self, uid: UUID) -> Tag | None:
        return self._rows.get(uid)

    async def lock(self, uid: UUID) -> Tag | None:
        return self._rows.get(uid)  # one writer at a time in memory

    async def update(self, tag: Tag) -> None:
        self._rows.put(tag.uid, tag)

    async def delete(self, tag: Tag) -> None:
        self._rows.remove(tag.uid)
        for link in self._links.row_keys():
            if link[1] == tag.uid:
                self._links.remove(link)

    async def page(self, limit: int, offset: int, after: Position | None = None) -> Page[Tag]:
        found = sorted(self._rows.values(), key=lambda t: (t.key, t.uid))
        rest = from_position(found, after, False, tag_position)
        return paged(rest, limit, offset, after, len(found), True, tag_position)

    async def ensure(self, names: Sequence[str], new_tags: Sequence[Tag]) -> list[Tag]:
        by_key = {tag.key: tag for tag in self._rows.values()}
        found = []
        for name, fresh in zip(names, new_tags, strict=True):
            tag = by_key.get(tag_key(name))
            if tag is None:
                tag = by_key[fresh.key] = fresh
                self._rows.put(fresh.uid, fresh)
            found.append(tag)
        return found

    async def attach(self, book_uid: UUID, tag_uids: Sequence[UUID]) -> None:
        for tag_uid in tag_uids:
            self._links.put((book_uid, tag_uid), 1)

    async def detach(self, book_uid: UUID, tag_uid: UUID) -> bool:
        if self._links.get((book_uid, tag_uid)) is None:
            return False
        self._links.remove((book_uid, tag_uid))
        return True
