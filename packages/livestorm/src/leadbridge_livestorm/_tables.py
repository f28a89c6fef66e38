"""The plugin's own tables: Livestorm events, sessions, and each person's registration."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from leadbridge.contacts import contact_foreign_key
from leadbridge.db import NAMING_CONVENTION, BigIntPK, JSONDoc, UTCDateTime, utcnow


class LivestormBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class EventRow(LivestormBase):
    __tablename__ = "livestorm_events"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(512), default="")
    slug: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str | None] = mapped_column(String(32))
    scheduling_status: Mapped[str | None] = mapped_column(String(32))
    registration_link: Mapped[str | None] = mapped_column(Text)
    estimated_duration: Mapped[int | None] = mapped_column(Integer)
    sessions_count: Mapped[int] = mapped_column(Integer, default=0)
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc, default=list)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SessionRow(LivestormBase):
    __tablename__ = "livestorm_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("livestorm_events.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str | None] = mapped_column(String(512))
    status: Mapped[str | None] = mapped_column(String(32))
    timezone: Mapped[str | None] = mapped_column(String(64))
    room_link: Mapped[str | None] = mapped_column(Text)
    attendees_count: Mapped[int] = mapped_column(Integer, default=0)
    registrants_count: Mapped[int] = mapped_column(Integer, default=0)
    duration: Mapped[int | None] = mapped_column(Integer)
    estimated_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Set when the session needs an incremental pull (``session.ended`` webhook, a session
    #: only known from a webhook); the sync pulls it and clears the flag.
    pull_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RegistrationRow(LivestormBase):
    """One person's registration to one session, with attendance; linked to a contact."""

    __tablename__ = "livestorm_registrations"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("livestorm_sessions.id", ondelete="CASCADE")
    )
    event_id: Mapped[str] = mapped_column(String(64), index=True)
    person_id: Mapped[str] = mapped_column(String(64))
    contact_id: Mapped[int | None] = mapped_column(
        BigIntPK, contact_foreign_key(ondelete="CASCADE")
    )
    email: Mapped[str | None] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(32), default="participant")
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attended: Mapped[bool] = mapped_column(Boolean, default=False)
    attendance_rate: Mapped[int | None] = mapped_column(Integer)
    attendance_duration: Mapped[int | None] = mapped_column(Integer)
    has_viewed_replay: Mapped[bool] = mapped_column(Boolean, default=False)
    replay_watched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    messages_count: Mapped[int] = mapped_column(Integer, default=0)
    questions_count: Mapped[int] = mapped_column(Integer, default=0)
    votes_count: Mapped[int] = mapped_column(Integer, default=0)
    up_votes_count: Mapped[int] = mapped_column(Integer, default=0)
    registration_type: Mapped[str | None] = mapped_column(String(32))
    referrer: Mapped[str | None] = mapped_column(Text)
    utm_source: Mapped[str | None] = mapped_column(String(255))
    utm_medium: Mapped[str | None] = mapped_column(String(255))
    utm_campaign: Mapped[str | None] = mapped_column(String(255))
    utm_term: Mapped[str | None] = mapped_column(String(255))
    utm_content: Mapped[str | None] = mapped_column(String(255))
    answers: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint(
            "session_id", "person_id", name="uq_livestorm_registrations_session_person"
        ),
        Index("ix_livestorm_registrations_contact_id_event_id", "contact_id", "event_id"),
    )


class WebhookDeliveryRow(LivestormBase):
    """Webhook deliveries already applied: a redelivery with the same key is acknowledged only."""

    __tablename__ = "livestorm_webhook_deliveries"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    delivery_key: Mapped[str] = mapped_column(String(128), unique=True)
    event: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
