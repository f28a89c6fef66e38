"""points: actions, groups, group scores, change log, award keys, triggers

Revision ID: points_0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from leadbridge.db import BigIntPK, JSONDoc, UTCDateTime

revision: str = "points_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("points",)
depends_on: str | Sequence[str] | None = "core_0001"

# The per-contact tables have no foreign key to contacts (a per-row check cost a third of a
# bulk award on PostgreSQL); this trigger does what ON DELETE CASCADE would.
_TABLES = ("point_changes", "point_awards", "point_group_scores", "point_trigger_fires")
_PG_FUNCTION = (
    "CREATE FUNCTION points_on_contacts_deleted() RETURNS trigger\n"
    "LANGUAGE plpgsql AS $$\n"
    "BEGIN\n"
    + "".join(
        f"    DELETE FROM {t} x USING deleted_contacts d WHERE x.contact_id = d.id;\n"
        for t in _TABLES
    )
    + "    RETURN NULL;\nEND\n$$"
)
_PG_TRIGGER = """
CREATE TRIGGER trg_contacts_points AFTER DELETE ON contacts
REFERENCING OLD TABLE AS deleted_contacts
FOR EACH STATEMENT EXECUTE FUNCTION points_on_contacts_deleted()
"""
_SQLITE_TRIGGER = (
    "CREATE TRIGGER trg_contacts_points AFTER DELETE ON contacts FOR EACH ROW\nBEGIN\n"
    + "".join(f"    DELETE FROM {t} WHERE contact_id = OLD.id;\n" for t in _TABLES)
    + "END"
)


def upgrade() -> None:
    op.create_table(
        "point_groups",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_point_groups"),
        sa.UniqueConstraint("name", name="uq_point_groups_name"),
    )
    op.create_table(
        "point_actions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("delta", sa.Integer, nullable=False),
        sa.Column("settings", JSONDoc, nullable=False),
        sa.Column("group_id", sa.Integer),
        sa.Column("repeatable", sa.Boolean, nullable=False),
        sa.Column("published", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["point_groups.id"], ondelete="RESTRICT",
            name="fk_point_actions_group_id_point_groups",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_point_actions"),
    )
    op.create_index("ix_point_actions_type", "point_actions", ["type"])
    op.create_index("ix_point_actions_group_id", "point_actions", ["group_id"])
    op.create_table(
        "point_group_scores",
        sa.Column("contact_id", BigIntPK, nullable=False),
        sa.Column("group_id", sa.Integer, nullable=False),
        sa.Column("points", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("contact_id", "group_id", name="pk_point_group_scores"),
    )
    op.create_index(
        "ix_point_group_scores_group_id_points", "point_group_scores", ["group_id", "points"]
    )
    op.create_table(
        "point_changes",
        sa.Column("id", BigIntPK, primary_key=True, autoincrement=True),
        sa.Column("contact_id", BigIntPK, nullable=False),
        sa.Column("action_id", sa.Integer),
        sa.Column("group_id", sa.Integer),
        sa.Column("delta", sa.Integer, nullable=False),
        sa.Column("reason", sa.String(255), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_point_changes"),
    )
    op.create_index("ix_point_changes_contact_id_id", "point_changes", ["contact_id", "id"])
    op.create_table(
        "point_awards",
        sa.Column("action_id", sa.Integer, nullable=False),
        sa.Column("contact_id", BigIntPK, nullable=False),
        sa.Column("awarded_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("action_id", "contact_id", name="pk_point_awards"),
    )
    op.create_index("ix_point_awards_contact_id", "point_awards", ["contact_id"])
    op.create_table(
        "point_triggers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("threshold", sa.Integer, nullable=False),
        sa.Column("group_id", sa.Integer),
        sa.Column("published", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["point_groups.id"], ondelete="RESTRICT",
            name="fk_point_triggers_group_id_point_groups",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_point_triggers"),
    )
    op.create_index("ix_point_triggers_group_id", "point_triggers", ["group_id"])
    op.create_table(
        "point_trigger_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("trigger_id", sa.Integer, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("settings", JSONDoc, nullable=False),
        sa.ForeignKeyConstraint(
            ["trigger_id"], ["point_triggers.id"], ondelete="CASCADE",
            name="fk_point_trigger_events_trigger_id_point_triggers",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_point_trigger_events"),
    )
    op.create_index(
        "ix_point_trigger_events_trigger_id", "point_trigger_events", ["trigger_id"]
    )
    op.create_table(
        "point_trigger_fires",
        sa.Column("trigger_id", sa.Integer, nullable=False),
        sa.Column("contact_id", BigIntPK, nullable=False),
        sa.Column("fired_at", UTCDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["trigger_id"], ["point_triggers.id"], ondelete="CASCADE",
            name="fk_point_trigger_fires_trigger_id_point_triggers",
        ),
        sa.PrimaryKeyConstraint("trigger_id", "contact_id", name="pk_point_trigger_fires"),
    )
    op.create_index("ix_point_trigger_fires_contact_id", "point_trigger_fires", ["contact_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)
    else:
        op.execute(_SQLITE_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS trg_contacts_points ON contacts")
        op.execute("DROP FUNCTION IF EXISTS points_on_contacts_deleted()")
    else:
        op.execute("DROP TRIGGER IF EXISTS trg_contacts_points")
    op.drop_index("ix_point_trigger_fires_contact_id", table_name="point_trigger_fires")
    op.drop_table("point_trigger_fires")
    op.drop_index("ix_point_trigger_events_trigger_id", table_name="point_trigger_events")
    op.drop_table("point_trigger_events")
    op.drop_index("ix_point_triggers_group_id", table_name="point_triggers")
    op.drop_table("point_triggers")
    op.drop_index("ix_point_awards_contact_id", table_name="point_awards")
    op.drop_table("point_awards")
    op.drop_index("ix_point_changes_contact_id_id", table_name="point_changes")
    op.drop_table("point_changes")
    op.drop_index("ix_point_group_scores_group_id_points", table_name="point_group_scores")
    op.drop_table("point_group_scores")
    op.drop_index("ix_point_actions_group_id", table_name="point_actions")
    op.drop_index("ix_point_actions_type", table_name="point_actions")
    op.drop_table("point_actions")
    op.drop_table("point_groups")
