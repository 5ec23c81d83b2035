"""Outbox jobs keep the W3C trace context of their cause, so their runs continue its trace.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 23:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outbox_jobs", sa.Column("trace_context", sa.JSON(), nullable=True))


def downgrade() -> None:
    # SQLite drops a column without a constraint or index in place (3.35 and later), so
    # the table and its partial index are left as they are.
    op.drop_column("outbox_jobs", "trace_context")
