from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, BigIntPK, UTCDateTime, utcnow


class ScheduleRow(Base):
    """A job that runs by itself: ``kind`` on ``target`` whenever ``cron`` says."""

    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(64))
    #: the integration (sync), the segment alias (segments; none: all), or the plugin's target
    target: Mapped[str | None] = mapped_column(String(255))
    cron: Mapped[str] = mapped_column(String(255))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    last_fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_outcome: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_schedules_enabled_next_due_at", "enabled", "next_due_at"),)


class JobErrorRow(Base):
    """The last error of a queued job (procrastinate keeps none), by the queue's job id."""

    __tablename__ = "job_errors"

    job_id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=False)
    attempts: Mapped[int] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(Text)
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
