from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, BigIntPK, JSONDoc, UTCDateTime, utcnow

__all__ = ["SegmentMemberRow", "SegmentRow"]


class SegmentRow(Base):
    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255))
    alias: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    is_published: Mapped[bool] = mapped_column(Boolean, default=True)
    #: the normalized filter list: ``[{glue, field, operator, value}, …]``
    filters: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_built_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    build_seconds: Mapped[float | None] = mapped_column(Float)
    member_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class SegmentMemberRow(Base):
    """One contact's standing in one segment.

    ``manually_removed`` rows are exclusions, not members: a rebuild never adds the contact
    back. ``manually_added`` rows stay whatever the filters say.

    No foreign keys, on purpose: checking them costs a lookup per inserted row, which tripled
    the time of a million-contact rebuild on PostgreSQL. Rows of a deleted contact go with it
    through a trigger (see the ``segments_0001`` migration); rows of a deleted segment go with
    it in :meth:`SegmentService.delete`.
    """

    __tablename__ = "segment_members"

    segment_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    manually_added: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    manually_removed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        # "the segments of contact X" and the delete trigger; the primary key serves the other way.
        Index("ix_segment_members_contact_id_segment_id", "contact_id", "segment_id"),
        # SQLite: cluster rows on the primary key, one b-tree less to write per member.
        {"sqlite_with_rowid": False},
    )
