"""Set-based sync reads: pages and counts of runs and of a run's errors, runs by id, the
object mappings of many contacts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db import id_set
from ._models import SyncErrorRow, SyncObjectMappingRow, SyncRunRow
from ._results import SyncFailure, SyncRun, SyncStatus
from ._runs import ObjectMapping, _failure


@dataclass(frozen=True)
class StoredSyncFailure:
    """A failure as recorded in the errors table: ``id`` orders them (newest is highest)."""

    id: int
    failure: SyncFailure


class SyncRunRepository:
    """Reads runs, errors and mappings in sets, one statement per call, through the session it
    is given (:class:`SyncRunService` opens sessions of its own)."""

    async def page(
        self,
        session: AsyncSession,
        *,
        integration: str | None = None,
        status: SyncStatus | None = None,
        limit: int = 20,
        before: int | None = None,
    ) -> tuple[list[SyncRun], bool]:
        """Up to ``limit`` runs, newest first, older than the run id ``before``, and whether
        more follow."""
        stmt = select(SyncRunRow).where(*_runs_where(integration, status))
        if before is not None:
            stmt = stmt.where(SyncRunRow.id < before)
        stmt = stmt.order_by(SyncRunRow.id.desc()).limit(limit + 1)
        rows = (await session.scalars(stmt)).all()
        return [SyncRun.from_row(r) for r in rows[:limit]], len(rows) > limit

    async def count(
        self,
        session: AsyncSession,
        *,
        integration: str | None = None,
        status: SyncStatus | None = None,
    ) -> int:
        """How many runs :meth:`page` pages through with the same filters."""
        stmt = select(func.count()).select_from(SyncRunRow).where(*_runs_where(integration, status))
        return int(await session.scalar(stmt) or 0)

    async def by_ids(self, session: AsyncSession, ids: Sequence[int]) -> dict[int, SyncRun]:
        """The runs with these ids, by id (unknown ids are left out)."""
        if not ids:
            return {}
        stmt = select(SyncRunRow).where(SyncRunRow.id.in_(id_set(session, sorted(set(ids)))))
        return {r.id: SyncRun.from_row(r) for r in (await session.scalars(stmt)).all()}

    async def error_page(
        self, session: AsyncSession, run_id: int, *, limit: int = 100, before: int | None = None
    ) -> tuple[list[StoredSyncFailure], bool]:
        """Up to ``limit`` of a run's errors, newest first, older than the error id ``before``,
        and whether more follow."""
        stmt = select(SyncErrorRow).where(SyncErrorRow.run_id == run_id)
        if before is not None:
            stmt = stmt.where(SyncErrorRow.id < before)
        stmt = stmt.order_by(SyncErrorRow.id.desc()).limit(limit + 1)
        rows = (await session.scalars(stmt)).all()
        return [StoredSyncFailure(r.id, _failure(r)) for r in rows[:limit]], len(rows) > limit

    async def error_count(self, session: AsyncSession, run_id: int) -> int:
        """How many errors a run recorded."""
        stmt = select(func.count()).select_from(SyncErrorRow).where(SyncErrorRow.run_id == run_id)
        return int(await session.scalar(stmt) or 0)

    async def mappings_by_contact(
        self, session: AsyncSession, contact_ids: Sequence[int]
    ) -> dict[int, list[ObjectMapping]]:
        """The live integration objects linked to each contact (contacts with none are left
        out), by integration, object and link order."""
        if not contact_ids:
            return {}
        m = SyncObjectMappingRow
        stmt = (
            select(m)
            .where(
                m.contact_id.in_(id_set(session, sorted(set(contact_ids)))), m.deleted_at.is_(None)
            )
            .order_by(m.contact_id, m.integration, m.object, m.id)
        )
        out: dict[int, list[ObjectMapping]] = defaultdict(list)
        for r in (await session.scalars(stmt)).all():
            out[r.contact_id].append(
                ObjectMapping(
                    r.integration,
                    r.object,
                    r.integration_id,
                    r.contact_id,
                    r.last_synced_at,
                    r.integration_modified_at,
                    r.deleted_at,
                )
            )
        return dict(out)


def _runs_where(integration: str | None, status: SyncStatus | None) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if integration is not None:
        where.append(SyncRunRow.integration == integration)
    if status is not None:
        where.append(SyncRunRow.status == status.value)
    return where
