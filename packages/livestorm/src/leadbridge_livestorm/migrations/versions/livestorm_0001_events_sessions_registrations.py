"""livestorm: events, sessions, registrations with attendance, webhook deliveries

Revision ID: livestorm_0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from leadbridge.db import BigIntPK, JSONDoc, UTCDateTime

revision: str = "livestorm_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("livestorm",)
depends_on: str | Sequence[str] | None = "core_0001"


def upgrade() -> None:
    op.create_table(
        "livestorm_events",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("title", sa.String(512), nullable=False),
        sa.Column("slug", sa.String(255)),
        sa.Column("status", sa.String(32)),
        sa.Column("scheduling_status", sa.String(32)),
        sa.Column("registration_link", sa.Text),
        sa.Column("estimated_duration", sa.Integer),
        sa.Column("sessions_count", sa.Integer, nullable=False),
        sa.Column("fields", JSONDoc, nullable=False),
        sa.Column("published_at", UTCDateTime),
        sa.Column("created_at", UTCDateTime),
        sa.Column("updated_at", UTCDateTime),
        sa.Column("synced_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_livestorm_events"),
    )
    op.create_table(
        "livestorm_sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(512)),
        sa.Column("status", sa.String(32)),
        sa.Column("timezone", sa.String(64)),
        sa.Column("room_link", sa.Text),
        sa.Column("attendees_count", sa.Integer, nullable=False),
        sa.Column("registrants_count", sa.Integer, nullable=False),
        sa.Column("duration", sa.Integer),
        sa.Column("estimated_started_at", UTCDateTime),
        sa.Column("started_at", UTCDateTime),
        sa.Column("ended_at", UTCDateTime),
        sa.Column("canceled_at", UTCDateTime),
        sa.Column("created_at", UTCDateTime),
        sa.Column("updated_at", UTCDateTime),
        sa.Column("synced_at", UTCDateTime, nullable=False),
        sa.Column("pull_requested_at", UTCDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_livestorm_sessions"),
        sa.ForeignKeyConstraint(
            ["event_id"], ["livestorm_events.id"], ondelete="CASCADE",
            name="fk_livestorm_sessions_event_id_livestorm_events",
        ),
    )
    op.create_index("ix_livestorm_sessions_event_id", "livestorm_sessions", ["event_id"])
    op.create_table(
        "livestorm_registrations",
        sa.Column("id", BigIntPK, nullable=False, autoincrement=True),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("contact_id", BigIntPK),
        sa.Column("email", sa.String(320)),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("registered_at", UTCDateTime),
        sa.Column("attended", sa.Boolean, nullable=False),
        sa.Column("attendance_rate", sa.Integer),
        sa.Column("attendance_duration", sa.Integer),
        sa.Column("has_viewed_replay", sa.Boolean, nullable=False),
        sa.Column("replay_watched_at", UTCDateTime),
        sa.Column("messages_count", sa.Integer, nullable=False),
        sa.Column("questions_count", sa.Integer, nullable=False),
        sa.Column("votes_count", sa.Integer, nullable=False),
        sa.Column("up_votes_count", sa.Integer, nullable=False),
        sa.Column("registration_type", sa.String(32)),
        sa.Column("referrer", sa.Text),
        sa.Column("utm_source", sa.String(255)),
        sa.Column("utm_medium", sa.String(255)),
        sa.Column("utm_campaign", sa.String(255)),
        sa.Column("utm_term", sa.String(255)),
        sa.Column("utm_content", sa.String(255)),
        sa.Column("answers", JSONDoc, nullable=False),
        sa.Column("updated_at", UTCDateTime),
        sa.Column("synced_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_livestorm_registrations"),
        sa.UniqueConstraint(
            "session_id", "person_id", name="uq_livestorm_registrations_session_person"
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["livestorm_sessions.id"], ondelete="CASCADE",
            name="fk_livestorm_registrations_session_id_livestorm_sessions",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], ondelete="CASCADE",
            name="fk_livestorm_registrations_contact_id_contacts",
        ),
    )
    op.create_index(
        "ix_livestorm_registrations_event_id", "livestorm_registrations", ["event_id"]
    )
    op.create_index(
        "ix_livestorm_registrations_contact_id_event_id",
        "livestorm_registrations",
        ["contact_id", "event_id"],
    )
    op.create_table(
        "livestorm_webhook_deliveries",
        sa.Column("id", BigIntPK, nullable=False, autoincrement=True),
        sa.Column("delivery_key", sa.String(128), nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("received_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_livestorm_webhook_deliveries"),
        sa.UniqueConstraint(
            "delivery_key", name="uq_livestorm_webhook_deliveries_delivery_key"
        ),
    )


def downgrade() -> None:
    op.drop_table("livestorm_webhook_deliveries")
    op.drop_index("ix_livestorm_registrations_contact_id_event_id", "livestorm_registrations")
    op.drop_index("ix_livestorm_registrations_event_id", "livestorm_registrations")
    op.drop_table("livestorm_registrations")
    op.drop_index("ix_livestorm_sessions_event_id", "livestorm_sessions")
    op.drop_table("livestorm_sessions")
    op.drop_table("livestorm_events")
