"""The shape of a search through the accounts (the admins' user list)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from domain.users import Role


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
