"""Paging over HTTP: the query parameters every list takes, and the page it answers.

A page is `{"items", "total", "total_exact", "limit", "offset", "next_cursor"}`, with a
`Link: <...>; rel="next"` header (RFC 8288) when another page follows. `?cursor=C` (with
`limit`, which may change) continues a list from where the page that gave out C ended.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Query, Request
from pydantic import BaseModel, Field

from application.ports.pages import COUNT_BOUND, Page, PageRequest
from entrypoints.http.documents import JSONDocument, page_document

T = TypeVar("T")
MAX_OFFSET = 1_000_000_000
CURSOR_PATTERN = r"^[A-Za-z0-9_.-]+$"


class PagingParams(BaseModel):
    limit: Annotated[int, Field(ge=1, le=100, description="Items per page.")] = 20
    offset: Annotated[
        int,
        Field(
            ge=0,
            le=MAX_OFFSET,
            description=(
                "Items to skip. Its cost grows with its size: to go through a long list, follow "
                "`next_cursor` instead. Not with `cursor`."
            ),
        ),
    ] = 0
    cursor: Annotated[
        str | None,
        Field(
            max_length=1024,
            pattern=CURSOR_PATTERN,
            description=(
                "The `next_cursor` of the previous page: continues the list at the cost of a "
                "first page, with the filters and sort it was made with (send none, or the same; "
                "`limit` may change). Anything else is 422 `invalid_cursor`."
            ),
        ),
    ] = None

    def request(self) -> PageRequest:
        return PageRequest(self.limit, self.offset, self.cursor)


PagingQuery = Annotated[PagingParams, Query()]
TOTAL_DESCRIPTION = (
    f"How many items the list has. Exact where the service keeps the count; otherwise "
    f"counted up to {COUNT_BOUND:,}, and then `total_exact` is false and `total` is "
    f"{COUNT_BOUND:,} (there are more)."
)


def paged(request: Request, page: Page[T], item: Callable[[T], Any]) -> JSONDocument:
    """The page as JSON, with the `Link` to the next one when there is one."""
    headers = {}
    if page.next_cursor is not None:  # a cursor's characters need no escaping in a URL
        headers["Link"] = (
            f'<{request.scope["path"]}?cursor={page.next_cursor}&limit={page.limit}>; rel="next"'
        )
    return JSONDocument(page_document(page, item), headers=headers)
