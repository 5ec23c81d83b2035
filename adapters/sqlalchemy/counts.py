"""Sizes of lists: the counts the triggers keep (migration 0009), or a bounded count.

A kept count is the sum of a list's rows in `catalogue_counts`, named as the triggers
name them (uids as 32 hex digits): a few rows to add up, whatever the list's size. Any
other total counts matches, but never more than COUNT_BOUND + 1 of them.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, Select, Text, cast, func, literal, select
from sqlalchemy.sql.elements import ColumnElement

from adapters.sqlalchemy.keyset import limit_of
from adapters.sqlalchemy.tables import catalogue_counts, tags
from application.ports.pages import COUNT_BOUND


def list_name(kind: str, key: str | UUID = "") -> str:
    """A kept list's name: `books`, `reviews`, `users`, `tags`, or `books:owner:<hex>`,
    `books:language:<tag>`, `reviews:user:<hex>`."""
    if not key:
        return kind
    return f"{kind}:{key.hex if isinstance(key, UUID) else key}"


def kept(name: str | ColumnElement[str]) -> Select[int]:
    """The kept size of the list `name` (0 when it has no rows)."""
    wanted = literal(name) if isinstance(name, str) else name
    total = cast(func.coalesce(func.sum(catalogue_counts.c.delta), 0), BigInteger)
    return select(total.label("n")).where(catalogue_counts.c.name == wanted)


def tag_uid_named(name_key: ColumnElement[str]) -> ColumnElement[UUID]:
    """The uid of the tag whose key is `name_key` (NULL when there is none)."""
    return select(tags.c.uid).where(tags.c.name_key == name_key).scalar_subquery()


def kept_tag(tag_uid: ColumnElement[UUID]) -> Select[int]:
    """The kept size of a tag's list of books (0 for no tag)."""
    return kept(literal("books:tag:") + func.replace(cast(tag_uid, Text), "-", ""))


def bounded_count(matches: Select[*tuple[Any, ...]]) -> Select[int]:
    """How many rows `matches` gives, counting at most COUNT_BOUND + 1."""
    return select(func.count().label("n")).select_from(
        matches.limit(limit_of(COUNT_BOUND + 1)).subquery()
    )
