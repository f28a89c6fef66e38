"""Set-based segment reads: pages, counts, batches by id and the segments of many contacts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import false, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db import id_set
from ._models import SegmentMemberRow, SegmentRow
from ._service import Segment, _segment


class SegmentRepository:
    """Reads segments in sets, one statement per call, through the session it is given."""

    async def page(
        self, session: AsyncSession, *, limit: int = 50, after: int | None = None
    ) -> tuple[list[Segment], bool]:
        """Up to ``limit`` segments by id after the id ``after``, and whether more follow."""
        stmt = select(SegmentRow).order_by(SegmentRow.id).limit(limit + 1)
        if after is not None:
            stmt = stmt.where(SegmentRow.id > after)
        rows = (await session.scalars(stmt)).all()
        return [_segment(r) for r in rows[:limit]], len(rows) > limit

    async def count(self, session: AsyncSession) -> int:
        """How many segments there are."""
        return int(await session.scalar(select(func.count()).select_from(SegmentRow)) or 0)

    async def by_ids(self, session: AsyncSession, ids: Sequence[int]) -> dict[int, Segment]:
        """The segments with these ids, by id (unknown ids are left out)."""
        if not ids:
            return {}
        stmt = select(SegmentRow).where(SegmentRow.id.in_(id_set(session, sorted(set(ids)))))
        return {r.id: _segment(r) for r in (await session.scalars(stmt)).all()}

    async def by_contact(
        self, session: AsyncSession, contact_ids: Sequence[int]
    ) -> dict[int, list[Segment]]:
        """The segments each contact is a stored member of, by segment id (contacts in none are
        left out; a manual removal is not a membership)."""
        if not contact_ids:
            return {}
        stmt = (
            select(SegmentMemberRow.contact_id, SegmentRow)
            .join(SegmentRow, SegmentRow.id == SegmentMemberRow.segment_id)
            .where(
                SegmentMemberRow.contact_id.in_(id_set(session, sorted(set(contact_ids)))),
                SegmentMemberRow.manually_removed == false(),
            )
            .order_by(SegmentMemberRow.contact_id, SegmentRow.id)
        )
        out: dict[int, list[Segment]] = defaultdict(list)
        for contact_id, row in (await session.execute(stmt)).all():
            out[contact_id].append(_segment(row))
        return dict(out)
