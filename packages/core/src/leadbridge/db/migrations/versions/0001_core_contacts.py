"""core: contacts, custom fields, tags, change log

Revision ID: core_0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from leadbridge.db import BigIntPK, JSONDoc, UTCDateTime

revision: str = "core_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("core",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("id", BigIntPK, primary_key=True, autoincrement=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("email_key", sa.String(320), nullable=False),
        sa.Column("first_name", sa.String(255)),
        sa.Column("last_name", sa.String(255)),
        sa.Column("company", sa.String(255)),
        sa.Column("phone", sa.String(64)),
        sa.Column("city", sa.String(255)),
        sa.Column("country", sa.String(255)),
        sa.Column("points", sa.Integer, nullable=False, server_default="0"),
        sa.Column("fields", JSONDoc, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("last_active_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_contacts"),
        sa.UniqueConstraint("email_key", name="uq_contacts_email_key"),
    )
    op.create_index("ix_contacts_updated_at", "contacts", ["updated_at"])
    op.create_table(
        "custom_fields",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("alias", sa.String(64), nullable=False),
        sa.Column("label", sa.String(255), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("options", JSONDoc),
        sa.Column("is_unique_identifier", sa.Boolean, nullable=False),
        sa.Column("is_required", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_custom_fields"),
        sa.UniqueConstraint("alias", name="uq_custom_fields_alias"),
    )
    op.create_table(
        "tags",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tags"),
        sa.UniqueConstraint("name", name="uq_tags_name"),
    )
    op.create_table(
        "contact_tags",
        sa.Column("contact_id", BigIntPK, nullable=False),
        sa.Column("tag_id", sa.Integer, nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], ondelete="CASCADE",
            name="fk_contact_tags_contact_id_contacts",
        ),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tags.id"], ondelete="CASCADE", name="fk_contact_tags_tag_id_tags"
        ),
        sa.PrimaryKeyConstraint("contact_id", "tag_id", name="pk_contact_tags"),
    )
    op.create_index("ix_contact_tags_tag_id_contact_id", "contact_tags", ["tag_id", "contact_id"])
    op.create_table(
        "contact_changes",
        sa.Column("id", BigIntPK, primary_key=True, autoincrement=True),
        sa.Column("contact_id", BigIntPK, nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("value", JSONDoc, nullable=True),
        sa.Column("changed_at", UTCDateTime, nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_contact_changes"),
    )
    op.create_index("ix_contact_changes_contact_id", "contact_changes", ["contact_id"])
    op.create_table(
        "change_log_cursors",
        sa.Column("consumer", sa.String(128), nullable=False),
        sa.Column("position", BigIntPK, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("consumer", name="pk_change_log_cursors"),
    )


def downgrade() -> None:
    op.drop_table("change_log_cursors")
    op.drop_index("ix_contact_changes_contact_id", table_name="contact_changes")
    op.drop_table("contact_changes")
    op.drop_index("ix_contact_tags_tag_id_contact_id", table_name="contact_tags")
    op.drop_table("contact_tags")
    op.drop_table("tags")
    op.drop_table("custom_fields")
    op.drop_index("ix_contacts_updated_at", table_name="contacts")
    op.drop_table("contacts")
