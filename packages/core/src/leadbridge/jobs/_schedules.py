"""Schedules as data: cron expressions (UTC by default) of jobs that run by themselves."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .._errors import NotFoundError
from ..db import utcnow
from ._errors import InvalidScheduleError
from ._kinds import JobKind
from ._models import ScheduleRow


@dataclass(frozen=True)
class Schedule:
    """A stored schedule."""

    id: int
    kind: str
    target: str | None
    cron: str
    timezone: str
    enabled: bool
    last_fired_at: datetime | None
    next_due_at: datetime
    last_outcome: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: ScheduleRow) -> Schedule:
        return cls(
            id=row.id,
            kind=row.kind,
            target=row.target,
            cron=row.cron,
            timezone=row.timezone,
            enabled=row.enabled,
            last_fired_at=row.last_fired_at,
            next_due_at=row.next_due_at,
            last_outcome=row.last_outcome,
            created_at=row.created_at,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "target": self.target,
            "cron": self.cron,
            "timezone": self.timezone,
            "enabled": self.enabled,
            "last_fired_at": _iso(self.last_fired_at),
            "next_due_at": _iso(self.next_due_at),
            "last_outcome": self.last_outcome,
            "created_at": _iso(self.created_at),
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def check_cron(cron: str) -> str:
    """``cron`` stripped, or :class:`InvalidScheduleError` naming it."""
    expression = " ".join(cron.split())
    if not expression or not croniter.is_valid(expression):
        raise InvalidScheduleError(
            f"cron expression {cron!r} is not valid (five fields: minute hour day month weekday)",
            field="cron",
            value=cron,
        )
    return expression


def check_timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidScheduleError(
            f"time zone {name!r} is unknown (use an IANA name such as Europe/Paris)",
            field="timezone",
            value=name,
        ) from exc


def next_due(cron: str, timezone: str, after: datetime) -> datetime:
    """The first time ``cron`` (read in ``timezone``) matches strictly after ``after``, UTC."""
    local = after.astimezone(check_timezone(timezone))
    following: datetime = croniter(cron, local).get_next(datetime)
    return following.astimezone(UTC)


class ScheduleService:
    """Stores schedules and claims the due ones, once each, across processes.

    ``kinds`` are the job kinds a schedule may name besides core's (the plugins').
    """

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        kinds: Collection[str] = (),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sf = session_factory
        self._kinds = {k.value for k in JobKind} | set(kinds)
        self._clock = clock

    def _check_kind(self, kind: str, target: str | None) -> None:
        if kind not in self._kinds:
            raise InvalidScheduleError(
                f"job kind {kind!r} is unknown; use one of {', '.join(sorted(self._kinds))}",
                field="kind",
                value=kind,
            )
        if kind == JobKind.SYNC and not target:
            raise InvalidScheduleError(
                "a sync schedule names its integration", field="target", value=target
            )
        if kind == JobKind.PRUNE and target:
            raise InvalidScheduleError(
                "a prune schedule takes no target", field="target", value=target
            )

    async def add(
        self,
        kind: JobKind | str,
        target: str | None,
        cron: str,
        *,
        timezone: str = "UTC",
        enabled: bool = True,
    ) -> Schedule:
        """Store a schedule; its first run is the next time ``cron`` matches."""
        kind = str(kind)
        self._check_kind(kind, target)
        cron = check_cron(cron)
        check_timezone(timezone)
        now = self._clock()
        row = ScheduleRow(
            kind=kind,
            target=target or None,
            cron=cron,
            timezone=timezone,
            enabled=enabled,
            next_due_at=next_due(cron, timezone, now),
            created_at=now,
        )
        async with self._sf.begin() as session:
            session.add(row)
            await session.flush()
        return Schedule.from_row(row)

    async def update(
        self,
        schedule_id: int,
        *,
        cron: str | None = None,
        timezone: str | None = None,
        target: str | None = None,
        enabled: bool | None = None,
    ) -> Schedule:
        """Change a schedule; a new cron, time zone or resumption recomputes its next run."""
        async with self._sf.begin() as session:
            row = await self._get(session, schedule_id, lock=True)
            if target is not None:
                self._check_kind(row.kind, target)
                row.target = target
            if cron is not None:
                row.cron = check_cron(cron)
            if timezone is not None:
                check_timezone(timezone)
                row.timezone = timezone
            resumed = enabled is True and not row.enabled
            if enabled is not None:
                row.enabled = enabled
            if cron is not None or timezone is not None or resumed:
                row.next_due_at = next_due(row.cron, row.timezone, self._clock())
        return Schedule.from_row(row)

    async def pause(self, schedule_id: int) -> Schedule:
        return await self.update(schedule_id, enabled=False)

    async def resume(self, schedule_id: int) -> Schedule:
        return await self.update(schedule_id, enabled=True)

    async def remove(self, schedule_id: int) -> None:
        async with self._sf.begin() as session:
            await session.delete(await self._get(session, schedule_id, lock=True))

    async def get(self, schedule_id: int) -> Schedule:
        async with self._sf() as session:
            return Schedule.from_row(await self._get(session, schedule_id))

    async def list(self) -> list[Schedule]:
        async with self._sf() as session:
            rows = await session.scalars(select(ScheduleRow).order_by(ScheduleRow.id))
            return [Schedule.from_row(r) for r in rows]

    async def claim_due(self, now: datetime | None = None) -> builtins.list[Schedule]:
        """The enabled schedules due at ``now``, each moved to its next time in the same
        transaction: two processes claiming at once never get the same firing.

        A schedule that missed several times (nothing ran) fires once, then waits for its
        next time after ``now``.
        """
        now = now or self._clock()
        stmt = (
            select(ScheduleRow)
            .where(ScheduleRow.enabled.is_(True), ScheduleRow.next_due_at <= now)
            .order_by(ScheduleRow.next_due_at, ScheduleRow.id)
            .with_for_update(skip_locked=True)
        )
        async with self._sf.begin() as session:
            rows = list(await session.scalars(stmt))
            for row in rows:
                row.last_fired_at = now
                row.next_due_at = next_due(row.cron, row.timezone, now)
        return [Schedule.from_row(r) for r in rows]

    async def record_outcome(self, schedule_id: int, outcome: str) -> None:
        async with self._sf.begin() as session:
            row = await session.get(ScheduleRow, schedule_id)
            if row is not None:  # removed while its job ran
                row.last_outcome = outcome[:2000]

    async def _get(
        self, session: AsyncSession, schedule_id: int, lock: bool = False
    ) -> ScheduleRow:
        row = await session.get(ScheduleRow, schedule_id, with_for_update=lock)
        if row is None:
            raise NotFoundError(f"schedule {schedule_id} does not exist")
        return row
