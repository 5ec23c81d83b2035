"""The shape of a search through the accounts (the admins' user list)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from application.ports.pages import Position
from domain.users import Role, User


def user_search_key(text: str) -> str:
    """How emails are stored (NFKC, case-folded); usernames are ASCII, compared lower-case
    (which is their case fold)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


@dataclass(frozen=True, slots=True)
class UserQuery:
    """Filters combine with AND. `text` is a plain substring (`%` and `_` are literal) of
    the email or the username, case-insensitive. Order: oldest account first, ties by uid,
    so a page stays put while people sign up."""

    role: Role | None = None
    is_verified: bool | None = None
    is_active: bool | None = None
    text: str | None = None
    limit: int = 20
    offset: int = 0
    after: Position | None = None  # (created_at, uid) of the last account seen

    def filters(self) -> dict[str, str]:
        found = {
            "role": None if self.role is None else self.role.value,
            "is_verified": None if self.is_verified is None else str(self.is_verified),
            "is_active": None if self.is_active is None else str(self.is_active),
            "q": None if self.text is None else user_search_key(self.text),
        }
        return {name: value for name, value in found.items() if value is not None}

    @classmethod
    def of_filters(
        cls, filters: dict[str, str], limit: int, offset: int = 0, after: Position | None = None
    ) -> UserQuery:
        def flag(name: str) -> bool | None:
            return None if name not in filters else filters[name] == "True"

        role = filters.get("role")
        return cls(
            role=Role(role) if role else None,
            is_verified=flag("is_verified"),
            is_active=flag("is_active"),
            text=filters.get("q"),
            limit=limit,
            offset=offset,
            after=after,
        )

    @property
    def is_whole_list(self) -> bool:
        """No filter: the total is the number of accounts, which is kept."""
        return not self.filters()


def user_position(user: User) -> Position:
    return (user.created_at, user.uid)
