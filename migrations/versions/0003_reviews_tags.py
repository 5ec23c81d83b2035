"""Reviews and tags: one review per user per book, tags unique without regard to case,
and each book's review count, rating sum and average kept in its row.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("books") as batch:
        batch.add_column(
            sa.Column("review_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("rating_sum", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("average_rating", sa.Float(), nullable=True))
    op.create_index("ix_books_average_rating_uid", "books", ["average_rating", "uid"])
    op.create_table(
        "reviews",
        sa.Column("uid", sa.Uuid(), nullable=False),
        sa.Column("book_uid", sa.Uuid(), nullable=False),
        sa.Column("user_uid", sa.Uuid(), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        sa.Column("review_text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("uid", name=op.f("pk_reviews")),
        sa.ForeignKeyConstraint(
            ["book_uid"], ["books.uid"], ondelete="CASCADE", name=op.f("fk_reviews_book_uid_books")
        ),
        sa.ForeignKeyConstraint(
            ["user_uid"], ["users.uid"], ondelete="CASCADE", name=op.f("fk_reviews_user_uid_users")
        ),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name=op.f("ck_reviews_rating_range")),
        sa.UniqueConstraint("user_uid", "book_uid", name=op.f("uq_reviews_user_uid_book_uid")),
    )
    op.create_index("ix_reviews_book_uid_created_at", "reviews", ["book_uid", "created_at", "uid"])
    op.create_index("ix_reviews_user_uid_created_at", "reviews", ["user_uid", "created_at", "uid"])
    op.create_index("ix_reviews_created_at_uid", "reviews", ["created_at", "uid"])
    op.create_table(
        "tags",
        sa.Column("uid", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("name_key", sa.String(160), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("uid", name=op.f("pk_tags")),
    )
    op.create_index("ix_tags_name_key", "tags", ["name_key"], unique=True)
    op.create_table(
        "book_tags",
        sa.Column("book_uid", sa.Uuid(), nullable=False),
        sa.Column("tag_uid", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("book_uid", "tag_uid", name=op.f("pk_book_tags")),
        sa.ForeignKeyConstraint(
            ["book_uid"],
            ["books.uid"],
            ondelete="CASCADE",
            name=op.f("fk_book_tags_book_uid_books"),
        ),
        sa.ForeignKeyConstraint(
            ["tag_uid"], ["tags.uid"], ondelete="CASCADE", name=op.f("fk_book_tags_tag_uid_tags")
        ),
    )
    op.create_index("ix_book_tags_tag_uid_book_uid", "book_tags", ["tag_uid", "book_uid"])


def downgrade() -> None:
    op.drop_index("ix_book_tags_tag_uid_book_uid", table_name="book_tags")
    op.drop_table("book_tags")
    op.drop_index("ix_tags_name_key", table_name="tags")
    op.drop_table("tags")
    for name in (
        "ix_reviews_created_at_uid",
        "ix_reviews_user_uid_created_at",
        "ix_reviews_book_uid_created_at",
    ):
        op.drop_index(name, table_name="reviews")
    op.drop_table("reviews")
    op.drop_index("ix_books_average_rating_uid", table_name="books")
    with op.batch_alter_table("books") as batch:
        batch.drop_column("average_rating")
        batch.drop_column("rating_sum")
        batch.drop_column("review_count")
