"""Pages of a list: read from a position in the list's order (keyset), or at an offset.

A list's order is a sort key and a unique tie-breaker (a uid); a `Position` is those
values of the last item seen, and the next page is what comes after it in that order.
Such a page costs what the first page costs, however deep it is, and rows added
meanwhile are never listed twice. An offset page reads and drops `offset` rows first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")
# The sort key values and the uid of an item, in the list's order (datetime, str, float,
# None, UUID): where a page ends and the next begins.
Position = tuple[Any, ...]

# Totals that would count every match (text search, combined filters) count this many at
# most; a page with more matches says so (`total_exact` False) and gives this number.
COUNT_BOUND = 1000


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    total: int  # exact, or COUNT_BOUND when `total_exact` is False
    limit: int
    offset: int | None  # None for a page read from a position
    total_exact: bool = True
    next_position: Position | None = None  # after the last item; None on the last page
    next_cursor: str | None = None  # `next_position` for clients (see application.paging)


def bounded(count: int) -> tuple[int, bool]:
    """(total, total_exact) for a count made with `LIMIT COUNT_BOUND + 1` (or exact)."""
    return (count, True) if count <= COUNT_BOUND else (COUNT_BOUND, False)


@dataclass(frozen=True, slots=True)
class PageRequest:
    """What a client asks for: `limit` items at `offset`, or after a `cursor` (opaque,
    given out with the previous page; it carries the list's filters and sort)."""

    limit: int = 20
    offset: int = 0
    cursor: str | None = None


def fetched_page(
    rows: list[T], limit: int, offset: int | None, total: int, exact: bool, position_of: Any
) -> Page[T]:
    """The page from `rows` read with LIMIT `limit + 1`: the extra row, if any, only says
    that more follow, so the page ends with a position to continue from."""
    more = len(rows) > limit
    items = rows[:limit]
    after = position_of(items[-1]) if more and items else None
    return Page(items, total, limit, offset, exact, after)
