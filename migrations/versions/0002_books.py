"""Books: the catalogue, with indexes for its filters and sorts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGRAM_INDEXES = {"ix_books_title_key_trgm": "title_key", "ix_books_author_key_trgm": "author_key"}


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "books",
        sa.Column("uid", sa.Uuid(), nullable=False),
        sa.Column("owner_uid", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("title_key", sa.Text(), nullable=False),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("author_key", sa.Text(), nullable=False),
        sa.Column("publisher", sa.String(255), nullable=False),
        sa.Column("published_date", sa.Date(), nullable=False),
        sa.Column("page_count", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(35), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("uid", name=op.f("pk_books")),
        sa.ForeignKeyConstraint(
            ["owner_uid"], ["users.uid"], ondelete="CASCADE", name=op.f("fk_books_owner_uid_users")
        ),
        sa.CheckConstraint("page_count > 0", name=op.f("ck_books_page_count_positive")),
    )
    op.create_index("ix_books_created_at_uid", "books", ["created_at", "uid"])
    op.create_index("ix_books_owner_uid_created_at", "books", ["owner_uid", "created_at", "uid"])
    op.create_index("ix_books_title_key_uid", "books", ["title_key", "uid"])
    op.create_index("ix_books_author_key", "books", ["author_key"])
    op.create_index("ix_books_language_created_at", "books", ["language", "created_at"])
    for name, column in TRIGRAM_INDEXES.items():
        op.create_index(
            name, "books", [column], postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"}
        )


def downgrade() -> None:
    for name in TRIGRAM_INDEXES:
        op.drop_index(name, table_name="books")
    for name in (
        "ix_books_language_created_at",
        "ix_books_author_key",
        "ix_books_title_key_uid",
        "ix_books_owner_uid_created_at",
        "ix_books_created_at_uid",
    ):
        op.drop_index(name, table_name="books")
    op.drop_table("books")
