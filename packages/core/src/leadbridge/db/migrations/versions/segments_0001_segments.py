"""segments: segments and their members

Revision ID: segments_0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from leadbridge.db import BigIntPK, JSONDoc, UTCDateTime

revision: str = "segments_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("segments",)
depends_on: str | Sequence[str] | None = "core_0001"

# segment_members has no foreign key to contacts (a per-row check tripled rebuild times on
# PostgreSQL); this trigger does what ON DELETE CASCADE would.
_PG_FUNCTION = """
CREATE FUNCTION segment_members_on_contacts_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM segment_members m USING deleted_contacts d WHERE m.contact_id = d.id;
    RETURN NULL;
END
$$
"""
_PG_TRIGGER = """
CREATE TRIGGER trg_contacts_segment_members AFTER DELETE ON contacts
REFERENCING OLD TABLE AS deleted_contacts
FOR EACH STATEMENT EXECUTE FUNCTION segment_members_on_contacts_deleted()
"""
_SQLITE_TRIGGER = """
CREATE TRIGGER trg_contacts_segment_members AFTER DELETE ON contacts FOR EACH ROW
BEGIN
    DELETE FROM segment_members WHERE contact_id = OLD.id;
END
"""


def upgrade() -> None:
    op.create_table(
        "segments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("alias", sa.String(64), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("is_published", sa.Boolean, nullable=False),
        sa.Column("filters", JSONDoc, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("last_built_at", UTCDateTime),
        sa.Column("build_seconds", sa.Float),
        sa.Column("member_count", sa.Integer, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id", name="pk_segments"),
        sa.UniqueConstraint("alias", name="uq_segments_alias"),
    )
    op.create_table(
        "segment_members",
        sa.Column("segment_id", sa.Integer, nullable=False),
        sa.Column("contact_id", BigIntPK, nullable=False),
        sa.Column("manually_added", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("manually_removed", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("added_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("segment_id", "contact_id", name="pk_segment_members"),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_segment_members_contact_id_segment_id",
        "segment_members",
        ["contact_id", "segment_id"],
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)
    else:
        op.execute(_SQLITE_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS trg_contacts_segment_members ON contacts")
        op.execute("DROP FUNCTION IF EXISTS segment_members_on_contacts_deleted()")
    else:
        op.execute("DROP TRIGGER IF EXISTS trg_contacts_segment_members")
    op.drop_index("ix_segment_members_contact_id_segment_id", table_name="segment_members")
    op.drop_table("segment_members")
    op.drop_table("segments")
