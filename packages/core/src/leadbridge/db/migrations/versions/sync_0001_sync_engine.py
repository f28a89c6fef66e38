"""sync: object mappings, runs, per-object errors, cursors, leases

Revision ID: sync_0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from leadbridge.db import BigIntPK, JSONDoc, UTCDateTime

revision: str = "sync_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("sync",)
depends_on: str | Sequence[str] | None = "core_0001"


def upgrade() -> None:
    op.create_table(
        "sync_object_mappings",
        sa.Column("id", BigIntPK, primary_key=True, autoincrement=True),
        sa.Column("integration", sa.String(64), nullable=False),
        sa.Column("object", sa.String(64), nullable=False),
        sa.Column("integration_id", sa.String(255), nullable=False),
        sa.Column("contact_id", BigIntPK, nullable=False),
        sa.Column("integration_modified_at", UTCDateTime),
        sa.Column("last_synced_at", UTCDateTime),
        sa.Column("deleted_at", UTCDateTime),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sync_object_mappings"),
        sa.UniqueConstraint(
            "integration",
            "object",
            "integration_id",
            name="uq_sync_object_mappings_integration_object_integration_id",
        ),
    )
    op.create_index(
        "ix_sync_object_mappings_integration_contact_id",
        "sync_object_mappings",
        ["integration", "contact_id"],
    )
    op.create_table(
        "sync_runs",
        sa.Column("id", BigIntPK, primary_key=True, autoincrement=True),
        sa.Column("integration", sa.String(64), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("options", JSONDoc, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("heartbeat_at", UTCDateTime, nullable=False),
        sa.Column("holder", sa.String(255), nullable=False),
        sa.Column("cancel_requested", sa.Boolean, nullable=False),
        sa.Column("pulled", sa.Integer, nullable=False),
        sa.Column("created", sa.Integer, nullable=False),
        sa.Column("updated", sa.Integer, nullable=False),
        sa.Column("unchanged", sa.Integer, nullable=False),
        sa.Column("conflicts", sa.Integer, nullable=False),
        sa.Column("pushed", sa.Integer, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
        sa.Column("api_calls", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_sync_runs"),
    )
    op.create_index("ix_sync_runs_integration", "sync_runs", ["integration"])
    op.create_table(
        "sync_errors",
        sa.Column("id", BigIntPK, primary_key=True, autoincrement=True),
        sa.Column("run_id", BigIntPK, nullable=False),
        sa.Column("integration", sa.String(64), nullable=False),
        sa.Column("object", sa.String(64), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("integration_id", sa.String(255)),
        sa.Column("contact_id", BigIntPK),
        sa.Column("field", sa.String(64)),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("resolved_at", UTCDateTime),
        sa.ForeignKeyConstraint(
            ["run_id"], ["sync_runs.id"], ondelete="CASCADE", name="fk_sync_errors_run_id_sync_runs"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_sync_errors"),
    )
    op.create_index("ix_sync_errors_run_id", "sync_errors", ["run_id"])
    op.create_index(
        "ix_sync_errors_integration_resolved_at", "sync_errors", ["integration", "resolved_at"]
    )
    op.create_table(
        "sync_cursors",
        sa.Column("integration", sa.String(64), nullable=False),
        sa.Column("object", sa.String(64), nullable=False),
        sa.Column("value", sa.Text),
        sa.Column("run_id", BigIntPK),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("integration", "object", name="pk_sync_cursors"),
    )
    op.create_table(
        "sync_leases",
        sa.Column("integration", sa.String(64), nullable=False),
        sa.Column("run_id", BigIntPK),
        sa.Column("holder", sa.String(255)),
        sa.Column("acquired_at", UTCDateTime),
        sa.Column("heartbeat_at", UTCDateTime),
        sa.PrimaryKeyConstraint("integration", name="pk_sync_leases"),
    )


def downgrade() -> None:
    op.drop_table("sync_leases")
    op.drop_table("sync_cursors")
    op.drop_index("ix_sync_errors_integration_resolved_at", table_name="sync_errors")
    op.drop_index("ix_sync_errors_run_id", table_name="sync_errors")
    op.drop_table("sync_errors")
    op.drop_index("ix_sync_runs_integration", table_name="sync_runs")
    op.drop_table("sync_runs")
    op.drop_index(
        "ix_sync_object_mappings_integration_contact_id", table_name="sync_object_mappings"
    )
    op.drop_table("sync_object_mappings")
