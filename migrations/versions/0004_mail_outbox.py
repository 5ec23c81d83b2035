"""Mail outbox: background jobs written in the same transaction as their cause.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNFINISHED = "status <> 'sent' AND status <> 'failed'"


def upgrade() -> None:
    op.create_table(
        "outbox_jobs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("task_name", sa.String(100), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("available_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_jobs")),
        sa.CheckConstraint(
            "status IN ('pending', 'dispatched', 'sending', 'sent', 'failed')",
            name=op.f("ck_outbox_jobs_status"),
        ),
    )
    op.create_index(
        "ix_outbox_jobs_due",
        "outbox_jobs",
        ["available_at"],
        postgresql_where=sa.text(UNFINISHED),
        sqlite_where=sa.text(UNFINISHED),
    )
    op.create_index("ix_outbox_jobs_finished_at", "outbox_jobs", ["finished_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_jobs_finished_at", table_name="outbox_jobs")
    op.drop_index("ix_outbox_jobs_due", table_name="outbox_jobs")
    op.drop_table("outbox_jobs")
