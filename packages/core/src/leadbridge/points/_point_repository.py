"""Set-based points reads: group scores of many contacts, the length of a contact's history."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db import id_set
from ._models import PointChangeRow, PointGroupRow, PointGroupScoreRow


@dataclass(frozen=True)
class GroupScore:
    """A contact's score in one points group."""

    group: str
    points: int


class PointRepository:
    """Reads points in sets, one statement per call, through the session it is given."""

    async def group_scores_by_contact(
        self, session: AsyncSession, contact_ids: Sequence[int]
    ) -> dict[int, list[GroupScore]]:
        """Each contact's score per group, by group name (contacts with none are left out)."""
        if not contact_ids:
            return {}
        stmt = (
            select(PointGroupScoreRow.contact_id, PointGroupRow.name, PointGroupScoreRow.points)
            .join(PointGroupRow, PointGroupRow.id == PointGroupScoreRow.group_id)
            .where(PointGroupScoreRow.contact_id.in_(id_set(session, sorted(set(contact_ids)))))
            .order_by(PointGroupScoreRow.contact_id, PointGroupRow.name)
        )
        out: dict[int, list[GroupScore]] = defaultdict(list)
        for contact_id, group, points in (await session.execute(stmt)).all():
            out[contact_id].append(GroupScore(group=group, points=points))
        return dict(out)

    async def change_count(self, session: AsyncSession, contact_id: int) -> int:
        """How many changes a contact's points history holds (:meth:`PointsService.history`)."""
        stmt = (
            select(func.count())
            .select_from(PointChangeRow)
            .where(PointChangeRow.contact_id == contact_id)
        )
        return int(await session.scalar(stmt) or 0)
