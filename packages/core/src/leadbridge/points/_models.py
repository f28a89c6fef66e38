from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, BigIntPK, JSONDoc, UTCDateTime, utcnow


class PointGroupRow(Base):
    """A named group of points, scored per contact apart from the contact's total."""

    __tablename__ = "point_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PointActionRow(Base):
    """A configured point action: when its type fires and its settings match, add ``delta``."""

    __tablename__ = "point_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(64), index=True)
    delta: Mapped[int] = mapped_column(Integer)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    group_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("point_groups.id", ondelete="RESTRICT"), index=True
    )
    repeatable: Mapped[bool] = mapped_column(Boolean, default=False)
    published: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PointGroupScoreRow(Base):
    """A contact's score in one group.

    The per-contact tables (scores, change log, award keys, trigger fires) have no foreign
    keys: a check per written row cost a third of a bulk award on PostgreSQL. A trigger on
    ``contacts`` (see the ``points_0001`` migration) deletes a deleted contact's rows, as
    ``ON DELETE CASCADE`` would; actions and groups are never deleted (unpublish an action).
    """

    __tablename__ = "point_group_scores"

    contact_id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    group_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    points: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_point_group_scores_group_id_points", "group_id", "points"),)


class PointChangeRow(Base):
    """The points change log: one row per change of a contact's total or group score.

    ``group_id`` NULL means the total (``contacts.points``); ``action_id`` NULL means a
    manual adjustment. The sum of a contact's rows per group equals its score there.
    """

    __tablename__ = "point_changes"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    contact_id: Mapped[int] = mapped_column(BigIntPK)
    action_id: Mapped[int | None] = mapped_column(Integer)
    group_id: Mapped[int | None] = mapped_column(Integer)
    delta: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # History is read per contact, newest first, by keyset on id.
    __table_args__ = (Index("ix_point_changes_contact_id_id", "contact_id", "id"),)


class PointAwardRow(Base):
    """The once-per-contact key of non-repeatable actions.

    Its primary key is the unique constraint that decides, inside the database, which of two
    concurrent triggers awards: the other's ``INSERT … ON CONFLICT DO NOTHING`` inserts nothing.
    """

    __tablename__ = "point_awards"

    action_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, index=True)
    awarded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PointTriggerRow(Base):
    """A threshold on a contact's total (``group_id`` NULL) or on a group score."""

    __tablename__ = "point_triggers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255))
    threshold: Mapped[int] = mapped_column(Integer)
    group_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("point_groups.id", ondelete="RESTRICT"), index=True
    )
    published: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PointTriggerEventRow(Base):
    """One thing a trigger does when it fires (add a tag, add to a segment …), in order."""

    __tablename__ = "point_trigger_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    trigger_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("point_triggers.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(64))
    settings: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)


class PointTriggerFireRow(Base):
    """The trigger-fired log; its primary key makes each trigger fire once per contact."""

    __tablename__ = "point_trigger_fires"

    trigger_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("point_triggers.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, index=True)
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


__all__ = [
    "PointActionRow",
    "PointAwardRow",
    "PointChangeRow",
    "PointGroupRow",
    "PointGroupScoreRow",
    "PointTriggerEventRow",
    "PointTriggerFireRow",
    "PointTriggerRow",
]
