from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, BigIntPK, JSONDoc, UTCDateTime, utcnow


class SyncObjectMappingRow(Base):
    """Integration object ``integration_id`` of ``object`` is contact ``contact_id``.

    No foreign key to contacts: a mapping outlives its deleted contact until push has told the
    integration (or dropped it), as the change log does.
    """

    __tablename__ = "sync_object_mappings"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    integration: Mapped[str] = mapped_column(String(64))
    object: Mapped[str] = mapped_column(String(64))
    integration_id: Mapped[str] = mapped_column(String(255))
    contact_id: Mapped[int] = mapped_column(BigIntPK)
    #: the integration's modified time of the object when last synced (its own clock)
    integration_modified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: when both sides last agreed on every mapped field (our clock)
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the integration deleted the object
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint(
            "integration",
            "object",
            "integration_id",
            name="uq_sync_object_mappings_integration_object_integration_id",
        ),
        Index("ix_sync_object_mappings_integration_contact_id", "integration", "contact_id"),
    )


class SyncRunRow(Base):
    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    integration: Mapped[str] = mapped_column(String(64), index=True)
    trigger: Mapped[str] = mapped_column(String(16))
    options: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime)
    holder: Mapped[str] = mapped_column(String(255))
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    pulled: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    conflicts: Mapped[int] = mapped_column(Integer, default=0)
    pushed: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    api_calls: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


class SyncErrorRow(Base):
    """One object that failed in a run, and why. Unresolved push errors are retried."""

    __tablename__ = "sync_errors"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("sync_runs.id", ondelete="CASCADE"), index=True
    )
    integration: Mapped[str] = mapped_column(String(64))
    object: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(8))
    integration_id: Mapped[str | None] = mapped_column(String(255))
    contact_id: Mapped[int | None] = mapped_column(BigIntPK)
    field: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    #: left out on purpose (:class:`SyncObjectSkipped`), not a failure
    skipped: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_sync_errors_integration_resolved_at", "integration", "resolved_at"),
    )


class SyncCursorRow(Base):
    """Where the pull of ``object`` resumes: the cursor of the last applied page."""

    __tablename__ = "sync_cursors"

    integration: Mapped[str] = mapped_column(String(64), primary_key=True)
    object: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[int | None] = mapped_column(BigIntPK)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SyncLeaseRow(Base):
    """Who runs the integration's sync now; a lease whose heartbeat is stale is free."""

    __tablename__ = "sync_leases"

    integration: Mapped[str] = mapped_column(String(64), primary_key=True)
    run_id: Mapped[int | None] = mapped_column(BigIntPK)
    #: ``host:pid``, for people
    holder: Mapped[str | None] = mapped_column(String(255))
    acquired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the holding engine's random id (``LeaseHolder``); NULL for leases taken before it
    instance_id: Mapped[str | None] = mapped_column(String(32))
    #: where the holder's pid names a process (boot id and pid namespace)
    process_scope: Mapped[str | None] = mapped_column(String(128))


#: Core tables of the hot paths (executemany without the ORM's per-row bookkeeping).
MAPPINGS = cast(Table, SyncObjectMappingRow.__table__)
ERRORS = cast(Table, SyncErrorRow.__table__)


__all__ = [
    "SyncCursorRow",
    "SyncErrorRow",
    "SyncLeaseRow",
    "SyncObjectMappingRow",
    "SyncRunRow",
]
