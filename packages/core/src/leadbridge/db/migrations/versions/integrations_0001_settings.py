"""integrations: stored settings, encrypted credentials and field mappings

Revision ID: integrations_0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from leadbridge.db import JSONDoc, UTCDateTime

revision: str = "integrations_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("integrations",)
depends_on: str | Sequence[str] | None = "core_0001"


def upgrade() -> None:
    op.create_table(
        "integrations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("settings", JSONDoc, nullable=False),
        sa.Column("credentials", sa.Text, nullable=True),
        sa.Column("mappings", JSONDoc, nullable=False),
        sa.Column("conflict_winner", sa.String(16), nullable=False),
        sa.Column("first_sync_from", UTCDateTime, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_integrations"),
        sa.UniqueConstraint("name", name="uq_integrations_name"),
    )


def downgrade() -> None:
    op.drop_table("integrations")
