"""Column types that behave the same on PostgreSQL and SQLite."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Any, TypeVar

from sqlalchemy import DateTime, Dialect, String
from sqlalchemy.types import TypeDecorator

E = TypeVar("E", bound=Enum)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out; stored naive (as UTC) where the database has no zones."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: timestamps must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # a value written by hand into SQLite
            value = datetime.fromisoformat(value)
        stamp: datetime = value  # the driver's datetime, or the one parsed above
        if stamp.tzinfo is None:
            return stamp.replace(tzinfo=UTC)
        return stamp.astimezone(UTC)


class StringEnum(TypeDecorator[E]):
    """Stores an `Enum` member as its string value in a VARCHAR (no native enum type)."""

    impl = String
    cache_ok = True

    def __init__(self, enum_class: type[E], length: int) -> None:
        super().__init__(length)
        self.enum_class = enum_class

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return str(self.enum_class(value).value)

    def process_result_value(self, value: Any, dialect: Dialect) -> E | None:
        return None if value is None else self.enum_class(value)
