"""Keyset pages in SQL: a list's order as columns ending in a unique one, read from a
position (the values of the last row seen) or, for old clients, at an offset."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVarTuple

from sqlalchemy import ColumnElement, Integer, Select, bindparam, literal, tuple_

Ts = TypeVarTuple("Ts")


def limit_of(rows: int) -> ColumnElement[int]:
    """A LIMIT written into the statement, not sent as a parameter: the planner costs a
    statement by its limit, and cannot see a parameter's value in a generic plan."""
    return literal(rows, Integer, literal_execute=True)


def rows_of(name: str) -> ColumnElement[int]:
    """A LIMIT given as the parameter `name`, written into the statement when it runs (as
    `limit_of`), so that the statement itself can be built once and kept."""
    return bindparam(name, type_=Integer, literal_execute=True)


def beyond(
    keys: Sequence[ColumnElement[Any]], position: Sequence[Any], descending: bool
) -> ColumnElement[bool]:
    """The rows after `position` (values, or parameters) in the order of `keys`: one
    row-value comparison, which an index on those columns answers by a range."""
    row = tuple_(*keys)
    at = tuple_(
        *(
            value if isinstance(value, ColumnElement) else literal(value, key.type)
            for key, value in zip(keys, position, strict=True)
        )
    )
    return row < at if descending else row > at


def ordered(keys: Sequence[ColumnElement[Any]], descending: bool) -> list[Any]:
    return [key.desc() if descending else key.asc() for key in keys]


def keyset_page(
    statement: Select[*Ts],
    keys: Sequence[ColumnElement[Any]],
    descending: bool,
    limit: int,
    offset: int,
    after: Sequence[Any] | None,
) -> Select[*Ts]:
    """`statement`'s rows in the order of `keys`, `limit + 1` of them (the extra one says
    that more follow), after the position `after`, else from `offset`."""
    if after is not None:
        statement = statement.where(beyond(keys, after, descending))
    elif offset:
        statement = statement.offset(offset)
    return statement.order_by(*ordered(keys, descending)).limit(limit_of(limit + 1))
