"""An index for the highest-rated-first order (`sort=-rating`).

`ix_books_average_rating_uid` serves `sort=rating` (ascending, books without reviews
last); read backwards it would put those books first, so `-rating` (descending, still
last) had to sort every matching book. With this index a tag-filtered `-rating` page
walks books best first and stops after its page.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # SQLite sorts NULL first, so its plain DESC already puts unrated books last (and it
    # refuses NULLS LAST in an index).
    nulls = " NULLS LAST" if op.get_bind().dialect.name == "postgresql" else ""
    op.create_index(
        "ix_books_average_rating_desc_uid",
        "books",
        [sa.text(f"average_rating DESC{nulls}"), sa.text("uid DESC")],
    )


def downgrade() -> None:
    op.drop_index("ix_books_average_rating_desc_uid", table_name="books")
