"""Tag names NFKC, without invisible characters; keys case-folded then NFKC; look-alike
tags merged.

Names were NFC and keys their case-folding, so a fullwidth `scifi` stood beside `scifi`
as another tag. Each tag's name and key are recomputed here, in Python, by this
revision's own copy of the rule (the domain's may change later): invisible characters
(Unicode categories Cf, Cc, Co, Cs, Cn) removed, NFKC, white space collapsed; the key is
the name case-folded, then NFKC again. A tag whose cleaned name would be empty, longer
than 40 characters or not printable is left as it is.

Tags that now share a key are merged into the oldest (by created_at, then uid): the
others' book links move to it (links it already has are skipped) and the others are
deleted. Links move by INSERT and DELETE, never UPDATE, so PostgreSQL's `tag_link_counts`
triggers (0007) keep each tag's count. A running service's tag writes wait until this
commits (PostgreSQL; SQLite's migration holds its write lock anyway).

The downgrade changes nothing: merged tags cannot be told apart again, and the cleaned
names are ones the earlier rule accepts.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 00:00:00
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from uuid import UUID

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME_MAX_LENGTH = 40
INVISIBLE_CATEGORIES = frozenset({"Cf", "Cc", "Co", "Cs", "Cn"})
# While keys change, a tag whose key changes holds one no name can have (a control
# character), so the unique index never sees two tags with the same key in between.
PARKED_KEY = "\x01{}"

tags = sa.table(
    "tags",
    sa.column("uid", sa.Uuid()),
    sa.column("name", sa.String()),
    sa.column("name_key", sa.String()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
book_tags = sa.table("book_tags", sa.column("book_uid", sa.Uuid()), sa.column("tag_uid", sa.Uuid()))


def cleaned(name: str) -> str | None:
    visible = "".join(c for c in name if unicodedata.category(c) not in INVISIBLE_CATEGORIES)
    clean = " ".join(unicodedata.normalize("NFKC", visible).split())
    if (
        not clean
        or len(clean) > NAME_MAX_LENGTH
        or not clean.isprintable()
        or any(unicodedata.category(c) in INVISIBLE_CATEGORIES for c in clean)
    ):
        return None
    return clean


def key_of(name: str) -> str:
    return unicodedata.normalize("NFKC", name.casefold())


def merge(connection: sa.Connection, kept: UUID, other: UUID) -> None:
    """`other`'s books linked to `kept` instead, and `other` deleted."""
    has_kept = sa.select(book_tags.c.book_uid).where(book_tags.c.tag_uid == kept)
    connection.execute(
        sa.insert(book_tags).from_select(
            ["book_uid", "tag_uid"],
            sa.select(book_tags.c.book_uid, sa.literal(kept, sa.Uuid())).where(
                book_tags.c.tag_uid == other, book_tags.c.book_uid.not_in(has_kept)
            ),
        )
    )
    connection.execute(sa.delete(book_tags).where(book_tags.c.tag_uid == other))
    connection.execute(sa.delete(tags).where(tags.c.uid == other))


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        op.execute("LOCK TABLE tags, book_tags IN SHARE ROW EXCLUSIVE MODE")
    rows = connection.execute(
        sa.select(tags.c.uid, tags.c.name, tags.c.name_key).order_by(tags.c.created_at, tags.c.uid)
    ).all()
    groups: dict[str, list[sa.Row]] = {}  # by new key, oldest first
    renamed: dict[UUID, str] = {}
    for row in rows:
        clean = cleaned(row.name)
        renamed[row.uid] = clean or row.name
        groups.setdefault(key_of(clean) if clean else row.name_key, []).append(row)
    changes = []
    for new_key, (kept, *others) in groups.items():
        for other in others:
            merge(connection, kept.uid, other.uid)
        if new_key != kept.name_key:
            connection.execute(
                sa.update(tags)
                .where(tags.c.uid == kept.uid)
                .values(name_key=PARKED_KEY.format(kept.uid))
            )
        if (renamed[kept.uid], new_key) != (kept.name, kept.name_key):
            changes.append({"uid": kept.uid, "name": renamed[kept.uid], "name_key": new_key})
    for change in changes:
        connection.execute(
            sa.update(tags)
            .where(tags.c.uid == change["uid"])
            .values(name=change["name"], name_key=change["name_key"])
        )


def downgrade() -> None:
    pass
