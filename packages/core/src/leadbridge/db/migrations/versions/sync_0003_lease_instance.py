"""sync: lease holders identified by a random instance id, not host:pid

Revision ID: sync_0003
Revises: sync_0002
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "sync_0003"
down_revision: str | Sequence[str] | None = "sync_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("sync_leases", sa.Column("instance_id", sa.String(32), nullable=True))
    op.add_column("sync_leases", sa.Column("process_scope", sa.String(128), nullable=True))


def downgrade() -> None:
    # SQLite drops a column by copying the table: batch mode does that on both databases.
    with op.batch_alter_table("sync_leases") as batch:
        batch.drop_column("process_scope")
        batch.drop_column("instance_id")
