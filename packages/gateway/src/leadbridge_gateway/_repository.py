"""Set-based reads behind the schema: one statement per page, per batch of keys, per count."""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from leadbridge.contacts import ContactRow, ContactTagRow, TagRow, email_key
from leadbridge.points import PointGroupRow, PointGroupScoreRow
from leadbridge.segments import SegmentMemberRow, SegmentRow
from leadbridge.sync import SyncObjectMappingRow

#: The columns a contact is read with (``email_key`` is an internal matching key).
CONTACT_COLUMNS = (
    ContactRow.id,
    ContactRow.email,
    ContactRow.first_name,
    ContactRow.last_name,
    ContactRow.company,
    ContactRow.phone,
    ContactRow.city,
    ContactRow.country,
    ContactRow.points,
    ContactRow.fields,
    ContactRow.created_at,
    ContactRow.updated_at,
    ContactRow.last_active_at,
)

#: The columns a segment is read with.
SEGMENT_COLUMNS = (
    SegmentRow.id,
    SegmentRow.name,
    SegmentRow.alias,
    SegmentRow.description,
    SegmentRow.is_published,
    SegmentRow.filters,
    SegmentRow.created_at,
    SegmentRow.updated_at,
    SegmentRow.last_built_at,
    SegmentRow.build_seconds,
    SegmentRow.member_count,
)


class ContactSort(enum.Enum):
    """Sort keys; each is paired with ``id`` so that the order is total (keyset pagination)."""

    ID = "id"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    POINTS = "points"
    EMAIL = "email"


_SORT_COLUMNS: dict[ContactSort, Any] = {
    ContactSort.ID: ContactRow.id,
    ContactSort.CREATED_AT: ContactRow.created_at,
    ContactSort.UPDATED_AT: ContactRow.updated_at,
    ContactSort.POINTS: ContactRow.points,
    # email_key: lower-cased and unique, so the order ignores case like the uniqueness does.
    ContactSort.EMAIL: ContactRow.email_key,
}


@dataclass(frozen=True)
class ContactCriteria:
    email: str | None = None
    search: str | None = None
    tag: str | None = None
    segment: str | None = None
    points_min: int | None = None
    points_max: int | None = None
    updated_since: datetime | None = None

    def where(self) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = []
        if self.email is not None:
            clauses.append(ContactRow.email_key == email_key(self.email))
        if self.search is not None and self.search.strip():
            pattern = "%" + _escape_like(self.search.strip().lower()) + "%"
            clauses.append(
                or_(
                    ContactRow.email_key.like(pattern, escape="\\"),
                    func.lower(ContactRow.first_name).like(pattern, escape="\\"),
                    func.lower(ContactRow.last_name).like(pattern, escape="\\"),
                    func.lower(ContactRow.company).like(pattern, escape="\\"),
                )
            )
        if self.tag is not None:
            clauses.append(
                ContactRow.id.in_(
                    select(ContactTagRow.contact_id)
                    .join(TagRow, TagRow.id == ContactTagRow.tag_id)
                    .where(TagRow.name == self.tag.strip().lower())
                )
            )
        if self.segment is not None:
            clauses.append(
                ContactRow.id.in_(
                    select(SegmentMemberRow.contact_id)
                    .join(SegmentRow, SegmentRow.id == SegmentMemberRow.segment_id)
                    .where(
                        SegmentRow.alias == self.segment.strip(),
                        SegmentMemberRow.manually_removed == false(),
                    )
                )
            )
        if self.points_min is not None:
            clauses.append(ContactRow.points >= self.points_min)
        if self.points_max is not None:
            clauses.append(ContactRow.points <= self.points_max)
        if self.updated_since is not None:
            clauses.append(ContactRow.updated_at >= self.updated_since)
        return clauses


@dataclass(frozen=True)
class Keyset:
    """Where a page starts: after the row with this sort value and id."""

    value: Any
    id: int


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def sort_value(row: Any, sort: ContactSort) -> Any:
    """The sort key of a row as the cursor carries it."""
    if sort is ContactSort.EMAIL:
        return email_key(row.email)
    return getattr(row, sort.value)


class ContactRepository:
    """Reads contacts, their tags and counts for the gateway, one statement per call.

    Every method reads through the session it is given: the request's read-only session.
    """

    async def page(
        self,
        session: AsyncSession,
        criteria: ContactCriteria,
        sort: ContactSort,
        descending: bool,
        limit: int,
        after: Keyset | None,
    ) -> tuple[Sequence[Row[Any]], bool]:
        """Up to ``limit`` rows after ``after`` in the given order, and whether more follow."""
        column = _SORT_COLUMNS[sort]
        clauses = criteria.where()
        if after is not None:
            if sort is ContactSort.ID:
                clauses.append(ContactRow.id < after.id if descending else ContactRow.id > after.id)
            elif descending:
                clauses.append(
                    or_(column < after.value, and_(column == after.value, ContactRow.id < after.id))
                )
            else:
                clauses.append(
                    or_(column > after.value, and_(column == after.value, ContactRow.id > after.id))
                )
        order = (
            [ContactRow.id.desc() if descending else ContactRow.id.asc()]
            if sort is ContactSort.ID
            else (
                [column.desc(), ContactRow.id.desc()]
                if descending
                else [column.asc(), ContactRow.id.asc()]
            )
        )
        stmt = select(*CONTACT_COLUMNS).where(*clauses).order_by(*order).limit(limit + 1)
        rows = (await session.execute(stmt)).all()
        return rows[:limit], len(rows) > limit

    async def count(self, session: AsyncSession, criteria: ContactCriteria) -> int:
        stmt = select(func.count()).select_from(ContactRow).where(*criteria.where())
        return int(await session.scalar(stmt) or 0)

    async def by_ids(self, session: AsyncSession, ids: Sequence[int]) -> dict[int, Row[Any]]:
        stmt = select(*CONTACT_COLUMNS).where(ContactRow.id.in_(set(ids)))
        return {r.id: r for r in (await session.execute(stmt)).all()}

    async def by_emails(self, session: AsyncSession, emails: Sequence[str]) -> dict[str, Row[Any]]:
        keys = {email_key(e) for e in emails}
        stmt = select(ContactRow.email_key, *CONTACT_COLUMNS).where(ContactRow.email_key.in_(keys))
        return {r.email_key: r for r in (await session.execute(stmt)).all()}

    async def tags_by_contact(
        self, session: AsyncSession, ids: Sequence[int]
    ) -> dict[int, list[str]]:
        stmt = (
            select(ContactTagRow.contact_id, TagRow.name)
            .join(TagRow, TagRow.id == ContactTagRow.tag_id)
            .where(ContactTagRow.contact_id.in_(set(ids)))
            .order_by(ContactTagRow.contact_id, TagRow.name)
        )
        out: dict[int, list[str]] = defaultdict(list)
        for row in (await session.execute(stmt)).all():
            out[row.contact_id].append(row.name)
        return out

    async def segments_by_contact(
        self, session: AsyncSession, ids: Sequence[int]
    ) -> dict[int, list[Row[Any]]]:
        """The segments each contact is a stored member of (by segment id)."""
        stmt = (
            select(SegmentMemberRow.contact_id, *SEGMENT_COLUMNS)
            .join(SegmentRow, SegmentRow.id == SegmentMemberRow.segment_id)
            .where(
                SegmentMemberRow.contact_id.in_(set(ids)),
                SegmentMemberRow.manually_removed == false(),
            )
            .order_by(SegmentMemberRow.contact_id, SegmentRow.id)
        )
        out: dict[int, list[Row[Any]]] = defaultdict(list)
        for row in (await session.execute(stmt)).all():
            out[row.contact_id].append(row)
        return out

    async def segments_by_ids(
        self, session: AsyncSession, ids: Sequence[int]
    ) -> dict[int, Row[Any]]:
        stmt = select(*SEGMENT_COLUMNS).where(SegmentRow.id.in_(set(ids)))
        return {r.id: r for r in (await session.execute(stmt)).all()}

    async def segment_page(
        self, session: AsyncSession, limit: int, after: int | None
    ) -> tuple[Sequence[Row[Any]], bool]:
        stmt = select(*SEGMENT_COLUMNS).order_by(SegmentRow.id).limit(limit + 1)
        if after is not None:
            stmt = stmt.where(SegmentRow.id > after)
        rows = (await session.execute(stmt)).all()
        return rows[:limit], len(rows) > limit

    async def segment_count(self, session: AsyncSession) -> int:
        return int(await session.scalar(select(func.count()).select_from(SegmentRow)) or 0)

    async def mappings_by_contact(
        self, session: AsyncSession, ids: Sequence[int]
    ) -> dict[int, list[Row[Any]]]:
        """The live integration objects linked to each contact."""
        m = SyncObjectMappingRow
        stmt = (
            select(m.contact_id, m.integration, m.object, m.integration_id, m.last_synced_at)
            .where(m.contact_id.in_(set(ids)), m.deleted_at.is_(None))
            .order_by(m.contact_id, m.integration, m.object, m.id)
        )
        out: dict[int, list[Row[Any]]] = defaultdict(list)
        for row in (await session.execute(stmt)).all():
            out[row.contact_id].append(row)  # type: ignore[arg-type]
        return out

    async def group_scores_by_contact(
        self, session: AsyncSession, ids: Sequence[int]
    ) -> dict[int, list[Row[Any]]]:
        """Each contact's score per points group, by group name."""
        stmt = (
            select(PointGroupScoreRow.contact_id, PointGroupRow.name, PointGroupScoreRow.points)
            .join(PointGroupRow, PointGroupRow.id == PointGroupScoreRow.group_id)
            .where(PointGroupScoreRow.contact_id.in_(set(ids)))
            .order_by(PointGroupScoreRow.contact_id, PointGroupRow.name)
        )
        out: dict[int, list[Row[Any]]] = defaultdict(list)
        for row in (await session.execute(stmt)).all():
            out[row.contact_id].append(row)  # type: ignore[arg-type]
        return out
