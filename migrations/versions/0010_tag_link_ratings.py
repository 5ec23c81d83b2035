"""A tag's rating order in a narrow table of its own, so that a review rewrites little.

Every review moves its book's average, and so the copy of it that each of the book's tag
links carries for the tag's rating pages. As a column of `book_tags` that copy made each
review write a new version of every link of the book, with an entry in each of the
links' four indexes. `book_tag_ratings` holds the copy instead (one row per link, with
the book's language for a tag's pages in one language), beside an index by
(tag_uid, average_rating, book_uid); `book_tags` loses the column and its index and is
no longer written by reviews. Its rows are deleted with their link.

PostgreSQL locks `book_tags` while the rows are copied: tagging waits for this migration.
SQLite needs 3.35 or later (`ALTER TABLE ... DROP COLUMN`).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_INDEX = "ix_book_tags_tag_uid_average_rating_book_uid"
NEW_INDEX = "ix_book_tag_ratings_tag_uid_average_rating_book_uid"


def upgrade() -> None:
    op.create_table(
        "book_tag_ratings",
        sa.Column("book_uid", sa.Uuid(), nullable=False),
        sa.Column("tag_uid", sa.Uuid(), nullable=False),
        sa.Column("average_rating", sa.Float(), nullable=True),
        sa.Column("language", sa.String(35), nullable=False),
        sa.ForeignKeyConstraint(
            ["book_uid", "tag_uid"],
            ["book_tags.book_uid", "book_tags.tag_uid"],
            name=op.f("fk_book_tag_ratings_book_uid_book_tags"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("book_uid", "tag_uid", name=op.f("pk_book_tag_ratings")),
    )
    op.execute(
        "INSERT INTO book_tag_ratings (book_uid, tag_uid, average_rating, language) "
        "SELECT book_uid, tag_uid, average_rating, language FROM book_tags"
    )
    op.create_index(
        NEW_INDEX,
        "book_tag_ratings",
        ["tag_uid", "average_rating", "book_uid"],
        postgresql_include=["language"],
    )
    op.drop_index(OLD_INDEX, table_name="book_tags")
    # In place on both databases (SQLite 3.35 and later): a batch copy of the table would
    # lose the triggers that keep its counts (migration 0009).
    op.drop_column("book_tags", "average_rating")


def downgrade() -> None:
    op.add_column("book_tags", sa.Column("average_rating", sa.Float(), nullable=True))
    op.execute(
        "UPDATE book_tags SET average_rating = (SELECT r.average_rating "
        "FROM book_tag_ratings r WHERE r.book_uid = book_tags.book_uid "
        "AND r.tag_uid = book_tags.tag_uid)"
    )
    op.create_index(
        OLD_INDEX,
        "book_tags",
        ["tag_uid", "average_rating", "book_uid"],
        postgresql_include=["language"],
    )
    op.drop_index(NEW_INDEX, table_name="book_tag_ratings")
    op.drop_table("book_tag_ratings")
