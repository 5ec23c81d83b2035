"""Cursors: a page's position in its list, handed to clients as an opaque token.

A cursor holds the list's name (and the ids a list's address carries), its filters and
sort, and the position after which the next page starts, signed (`CursorSigner`). With
the cursor alone a client continues the list at the cost of a first page; a cursor from
another list, with a filter or sort sent beside it that differs from its own, or with an
offset, is refused (InvalidCursor), never read as some other page.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from application.ports.pages import Page, PageRequest, Position
from application.ports.security import CursorSigner
from domain.errors import InvalidCursor

T = TypeVar("T")
Filters = Mapping[str, str]  # a list's filters and sort, as normalised text


def _pack(value: Any) -> Any:
    """One position value as JSON, tagged with its type so it reads back as it was."""
    if value is None or isinstance(value, bool):
        raise TypeError("a position holds no booleans and no None")
    if isinstance(value, datetime):
        return ["t", value.isoformat()]
    if isinstance(value, UUID):
        return ["u", value.hex]
    if isinstance(value, str):
        return ["s", value]
    if isinstance(value, float | int):
        return ["n", value]
    raise TypeError(f"{type(value).__name__} cannot be part of a position")


def _unpack(packed: Any) -> Any:
    if packed is None:
        return None
    kind, value = packed
    if kind == "t":
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("a naive timestamp")
        return parsed
    if kind == "u":
        return UUID(hex=value)
    if kind == "s" and isinstance(value, str):
        return value
    if kind == "n" and isinstance(value, float | int) and not isinstance(value, bool):
        return value
    raise ValueError(f"not a position value: {packed!r}")


class Cursors:
    def __init__(self, signer: CursorSigner) -> None:
        self._signer = signer

    def resume(
        self, list_name: str, request: PageRequest, sent: Filters
    ) -> tuple[dict[str, str], Position | None]:
        """The filters to list with, and the position to continue after (None: from the
        start, or at `request.offset`). Without a cursor, the filters sent."""
        if request.cursor is None:
            return dict(sent), None
        content = self._signer.unsign(request.cursor)
        try:
            filters, position = content["f"], content["p"]
            if content["l"] != list_name or not isinstance(filters, dict):
                raise InvalidCursor()
            resumed = tuple(None if value is None else _unpack(value) for value in position)
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidCursor() from error
        if request.offset or any(filters.get(name) != value for name, value in sent.items()):
            raise InvalidCursor()
        return {str(name): str(value) for name, value in filters.items()}, resumed

    def continued(self, list_name: str, filters: Filters, page: Page[T]) -> Page[T]:
        """`page` with the cursor of the page after it (None on the last page)."""
        if page.next_position is None:
            return page
        packed = [None if value is None else _pack(value) for value in page.next_position]
        cursor = self._signer.sign({"l": list_name, "f": dict(filters), "p": packed})
        return dataclasses.replace(page, next_cursor=cursor)
