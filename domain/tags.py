"""A tag: a short name, unique without regard to case, that owners attach to books."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.errors import RuleViolation

TAG_NAME_MAX_LENGTH = 40
# Refused in a tag name, besides what `str.isprintable` refuses: format characters (the
# invisible ones: zero-width space and joiner, soft hyphen, bidi controls, the BOM),
# controls, private-use, surrogate and unassigned code points. Two names that look alike
# must not be two tags.
INVISIBLE_CATEGORIES = frozenset({"Cf", "Cc", "Co", "Cs", "Cn"})


def clean_tag_name(raw: str) -> str:
    """NFKC (a name in fullwidth letters is the same name), trimmed, inner white space
    collapsed to single spaces; 1 to 40 printable characters, none of them invisible."""
    name = " ".join(unicodedata.normalize("NFKC", raw).split())
    if (
        not name
        or len(name) > TAG_NAME_MAX_LENGTH
        or not name.isprintable()
        or (
            not name.isascii()
            and any(unicodedata.category(char) in INVISIBLE_CATEGORIES for char in name)
        )
    ):
        raise RuleViolation("name", f"1 to {TAG_NAME_MAX_LENGTH} printable characters.")
    return name


def tag_key(name: str) -> str:
    """What makes two names the same tag: the clean name case-folded, then NFKC again
    (folding may undo it), as emails are compared."""
    return unicodedata.normalize("NFKC", clean_tag_name(name).casefold())


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
