"""sync: objects skipped on purpose, apart from failures

Revision ID: sync_0002
Revises: sync_0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "sync_0002"
down_revision: str | Sequence[str] | None = "sync_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "sync_runs", sa.Column("skipped", sa.Integer, nullable=False, server_default="0")
    )
    op.add_column(
        "sync_errors",
        sa.Column("skipped", sa.Boolean, nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    # SQLite drops a column by copying the table: batch mode does that on both databases.
    with op.batch_alter_table("sync_errors") as batch:
        batch.drop_column("skipped")
    with op.batch_alter_table("sync_runs") as batch:
        batch.drop_column("skipped")
