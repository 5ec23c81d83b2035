"""A tag: a short name, unique without regard to case, that owners attach to books."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.errors import RuleViolation

TAG_NAME_MAX_LENGTH = 40


def clean_tag_name(raw: str) -> str:
    """Trimmed, inner white space collapsed to single spaces, 1 to 40 printable characters."""
    name = " ".join(unicodedata.normalize("NFC", raw).split())
    if not name or len(name) > TAG_NAME_MAX_LENGTH or not name.isprintable():
        raise RuleViolation("name", f"1 to {TAG_NAME_MAX_LENGTH} printable characters.")
    return name


def tag_key(name: str) -> str:
    """What makes two names the same tag."""
    return clean_tag_name(name).casefold()


@dataclass(eq=False)
class Tag:
    uid: UUID
    name: str
    created_at: datetime

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Tag) and other.uid == self.uid

    def __hash__(self) -> int:
        return hash(self.uid)

    @property
    def key(self) -> str:
        return tag_key(self.name)

    def rename(self, name: str) -> None:
        self.name = clean_tag_name(name)
