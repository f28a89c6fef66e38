"""Reading runs, errors, mappings and status; cancelling a run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .._errors import ConflictError, NotFoundError, ValidationError
from ._models import SyncCursorRow, SyncErrorRow, SyncLeaseRow, SyncObjectMappingRow, SyncRunRow
from ._options import SyncDirection
from ._results import SyncFailure, SyncRun, SyncStatus


@dataclass(frozen=True)
class ObjectMapping:
    """An integration object linked to a contact."""

    integration: str
    object: str
    integration_id: str
    contact_id: int
    last_synced_at: datetime | None
    integration_modified_at: datetime | None
    deleted_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "integration": self.integration,
            "object": self.object,
            "integration_id": self.integration_id,
            "contact_id": self.contact_id,
            "last_synced_at": _iso(self.last_synced_at),
            "integration_modified_at": _iso(self.integration_modified_at),
            "deleted_at": _iso(self.deleted_at),
        }


@dataclass(frozen=True)
class IntegrationSyncStatus:
    """Where an integration's sync stands."""

    integration: str
    running_run_id: int | None
    holder: str | None
    heartbeat_at: datetime | None
    last_run: SyncRun | None
    cursors: dict[str, str | None]
    mapped: int
    unresolved_errors: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "integration": self.integration,
            "running_run_id": self.running_run_id,
            "holder": self.holder,
            "heartbeat_at": _iso(self.heartbeat_at),
            "last_run": self.last_run.to_dict() if self.last_run else None,
            "cursors": self.cursors,
            "mapped": self.mapped,
            "unresolved_errors": self.unresolved_errors,
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _failure(row: SyncErrorRow) -> SyncFailure:
    return SyncFailure(
        direction=SyncDirection(row.direction),
        object=row.object,
        message=row.message,
        integration_id=row.integration_id,
        contact_id=row.contact_id,
        field=row.field,
        run_id=row.run_id,
        skipped=row.skipped,
        created_at=row.created_at,
        resolved_at=row.resolved_at,
    )


class SyncRunService:
    """Runs, their per-object errors, object mappings and each integration's sync status."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = session_factory

    async def runs(
        self,
        integration: str | None = None,
        *,
        status: SyncStatus | str | None = None,
        limit: int = 20,
        before: int | None = None,
    ) -> list[SyncRun]:
        """Runs, newest first; ``before`` (a run id) pages back."""
        if not 1 <= limit <= 1000:
            raise ValidationError("limit must be between 1 and 1000", field="limit", value=limit)
        stmt = select(SyncRunRow).order_by(SyncRunRow.id.desc()).limit(limit)
        if integration is not None:
            stmt = stmt.where(SyncRunRow.integration == integration)
        if status is not None:
            if status not in set(SyncStatus):
                raise ValidationError(f"status {status!r} is unknown", field="status", value=status)
            stmt = stmt.where(SyncRunRow.status == str(status))
        if before is not None:
            stmt = stmt.where(SyncRunRow.id < before)
        async with self._sessions() as session:
            return [SyncRun.from_row(row) for row in (await session.scalars(stmt)).all()]

    async def get(self, run_id: int) -> SyncRun:
        async with self._sessions() as session:
            row = await session.get(SyncRunRow, run_id)
        if row is None:
            raise NotFoundError(f"sync run {run_id} does not exist")
        return SyncRun.from_row(row)

    async def errors(
        self,
        *,
        run_id: int | None = None,
        integration: str | None = None,
        unresolved: bool = False,
        limit: int = 100,
        skipped: bool | None = None,
    ) -> list[SyncFailure]:
        """Per-object failures, newest first; ``skipped`` picks objects skipped on purpose
        (``True``) or real failures (``False``)."""
        stmt = select(SyncErrorRow).order_by(SyncErrorRow.id.desc()).limit(limit)
        if skipped is not None:
            stmt = stmt.where(SyncErrorRow.skipped.is_(skipped))
        if run_id is not None:
            stmt = stmt.where(SyncErrorRow.run_id == run_id)
        if integration is not None:
            stmt = stmt.where(SyncErrorRow.integration == integration)
        if unresolved:
            stmt = stmt.where(SyncErrorRow.resolved_at.is_(None))
        async with self._sessions() as session:
            return [_failure(row) for row in (await session.scalars(stmt)).all()]

    async def cancel(self, run_id: int) -> SyncRun:
        """Ask a running run to stop after its current page (it may run in another process)."""
        async with self._sessions.begin() as session:
            row = await session.get(SyncRunRow, run_id, with_for_update=True)
            if row is None:
                raise NotFoundError(f"sync run {run_id} does not exist")
            if row.status != SyncStatus.RUNNING.value:
                raise ConflictError(f"sync run {run_id} is not running (it is {row.status})")
            row.cancel_requested = True
        return SyncRun.from_row(row)

    async def mappings(self, contact_id: int) -> list[ObjectMapping]:
        """The integration objects linked to a contact."""
        mapping = SyncObjectMappingRow
        async with self._sessions() as session:
            rows = (
                await session.scalars(
                    select(mapping).where(mapping.contact_id == contact_id).order_by(mapping.id)
                )
            ).all()
        return [
            ObjectMapping(
                row.integration,
                row.object,
                row.integration_id,
                row.contact_id,
                row.last_synced_at,
                row.integration_modified_at,
                row.deleted_at,
            )
            for row in rows
        ]

    async def cursor(self, integration: str, obj: str) -> str | None:
        async with self._sessions() as session:
            row = await session.get(SyncCursorRow, (integration, obj))
        return row.value if row is not None else None

    async def reset_cursor(self, integration: str, obj: str | None = None) -> None:
        """Forget where pulls stand: the next run pulls from the start (or first sync date)."""
        async with self._sessions.begin() as session:
            stmt = update(SyncCursorRow).where(SyncCursorRow.integration == integration)
            if obj is not None:
                stmt = stmt.where(SyncCursorRow.object == obj)
            await session.execute(stmt.values(value=None))

    async def status(self, integration: str | None = None) -> list[IntegrationSyncStatus]:
        """Per integration that ever ran: the running run, the last run, cursors, counts."""
        async with self._sessions() as session:
            names_stmt = select(SyncRunRow.integration).distinct()
            if integration is not None:
                names_stmt = names_stmt.where(SyncRunRow.integration == integration)
            names = sorted(set((await session.scalars(names_stmt)).all()))
            if integration is not None and integration not in names:
                names = [integration]
            out = []
            for name in names:
                lease = await session.get(SyncLeaseRow, name)
                last = await session.scalar(
                    select(SyncRunRow)
                    .where(SyncRunRow.integration == name)
                    .order_by(SyncRunRow.id.desc())
                    .limit(1)
                )
                rows = await session.execute(
                    select(SyncCursorRow.object, SyncCursorRow.value).where(
                        SyncCursorRow.integration == name
                    )
                )
                cursors: dict[str, str | None] = {obj: value for obj, value in rows.all()}
                mapped = await session.scalar(
                    select(func.count())
                    .select_from(SyncObjectMappingRow)
                    .where(SyncObjectMappingRow.integration == name)
                )
                unresolved = await session.scalar(
                    select(func.count())
                    .select_from(SyncErrorRow)
                    .where(
                        SyncErrorRow.integration == name,
                        SyncErrorRow.resolved_at.is_(None),
                        SyncErrorRow.skipped.is_(False),
                    )
                )
                running = lease.run_id if lease is not None else None
                out.append(
                    IntegrationSyncStatus(
                        integration=name,
                        running_run_id=running,
                        holder=lease.holder if running is not None and lease else None,
                        heartbeat_at=lease.heartbeat_at if running is not None and lease else None,
                        last_run=SyncRun.from_row(last) if last is not None else None,
                        cursors=cursors,
                        mapped=int(mapped or 0),
                        unresolved_errors=int(unresolved or 0),
                    )
                )
        return out
