"""Run options, statuses, counters and the records a run leaves behind."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from .._errors import ValidationError
from ._models import SyncRunRow

#: Which contacts push may create in the integration: a ``SELECT`` of contact ids (a segment's
#: members, say) or an async callable ``(session, contact_ids) -> the ids allowed``.
ContactFilter = Select[Any] | Callable[[AsyncSession, Sequence[int]], Awaitable[Collection[int]]]


class SyncTrigger(enum.StrEnum):
    CLI = "cli"
    API = "api"
    WEBHOOK = "webhook"
    SCHEDULE = "schedule"


class SyncStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for a worker (PostgreSQL), or stopped to resume there
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"  # finished, some objects failed (see the run's errors)
    FAILED = "failed"  # could not proceed; nothing past the last applied page moved
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class SyncOptions:
    """How to run a sync.

    ``since``: pull objects changed from this date, ignoring the stored cursor (the first
    sync from a date). ``full``: ignore cursors — pull everything and push every contact.
    ``pull_only`` / ``push_only``: one direction. ``dry_run``: compute and report every change,
    write nothing (no run row either; push counts as if the pull had not run, since its
    mappings were not written). ``ids``: only these integration ids (a targeted repair:
    cursors do not move, push makes no creates). ``create_filter``: push creates only contacts
    this filter lets through (a segment's members).
    """

    full: bool = False
    since: datetime | None = None
    pull_only: bool = False
    push_only: bool = False
    dry_run: bool = False
    ids: frozenset[str] | None = None
    create_filter: ContactFilter | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.pull_only and self.push_only:
            raise ValidationError("choose pull only or push only, not both", field="push_only")
        if self.since is not None and self.since.tzinfo is None:
            raise ValidationError(
                "since must be timezone-aware (UTC)", field="since", value=self.since
            )
        if self.ids is not None:
            object.__setattr__(self, "ids", frozenset(str(i) for i in self.ids))
            if not self.ids:
                raise ValidationError("ids is empty: give at least one id", field="ids")

    def to_dict(self) -> dict[str, Any]:
        return {
            "full": self.full,
            "since": self.since.isoformat() if self.since else None,
            "pull_only": self.pull_only,
            "push_only": self.push_only,
            "dry_run": self.dry_run,
            "ids": sorted(self.ids) if self.ids is not None else None,
            "create_filter": self.create_filter is not None,
        }


@dataclass
class SyncCounters:
    pulled: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    conflicts: int = 0
    pushed: int = 0
    failed: int = 0
    skipped: int = 0
    api_calls: int = 0

    def add(self, other: SyncCounters) -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)

    def copy(self) -> SyncCounters:
        return SyncCounters(**asdict(self))

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


#: The counters, named as ``SyncCounters`` fields and ``sync_runs`` columns alike.
_COUNTER_NAMES = tuple(f.name for f in fields(SyncCounters))


@dataclass(frozen=True)
class SyncFailure:
    """One object that failed: ``direction`` is ``pull`` or ``push``."""

    direction: str
    object: str
    message: str
    integration_id: str | None = None
    contact_id: int | None = None
    field: str | None = None
    run_id: int | None = None
    skipped: bool = False
    created_at: datetime | None = None
    resolved_at: datetime | None = None

    def to_row(self, integration: str, now: datetime) -> dict[str, Any]:
        """The ``sync_errors`` row recording this failure of ``integration`` at ``now``."""
        return {
            "run_id": self.run_id,
            "integration": integration,
            "object": self.object,
            "direction": self.direction,
            "integration_id": self.integration_id,
            "contact_id": self.contact_id,
            "field": self.field,
            "message": self.message,
            "skipped": self.skipped,
            "created_at": now,
            "resolved_at": None,
        }

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("created_at", "resolved_at"):
            out[key] = out[key].isoformat() if out[key] else None
        return out


@dataclass(frozen=True)
class SyncRun:
    """A run as recorded in ``sync_runs``."""

    id: int
    integration: str
    trigger: str
    status: SyncStatus
    options: dict[str, Any]
    started_at: datetime
    finished_at: datetime | None
    heartbeat_at: datetime
    holder: str
    cancel_requested: bool
    counters: SyncCounters
    error: str | None

    @classmethod
    def from_row(cls, row: SyncRunRow) -> SyncRun:
        counters = SyncCounters(**{name: getattr(row, name) for name in _COUNTER_NAMES})
        return cls(
            id=row.id,
            integration=row.integration,
            trigger=row.trigger,
            status=SyncStatus(row.status),
            options=dict(row.options or {}),
            started_at=row.started_at,
            finished_at=row.finished_at,
            heartbeat_at=row.heartbeat_at,
            holder=row.holder,
            cancel_requested=row.cancel_requested,
            counters=counters,
            error=row.error,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "integration": self.integration,
            "trigger": self.trigger,
            "status": self.status.value,
            "options": self.options,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "heartbeat_at": self.heartbeat_at.isoformat(),
            "holder": self.holder,
            "cancel_requested": self.cancel_requested,
            **self.counters.to_dict(),
            "error": self.error,
        }


@dataclass
class SyncResult:
    """What :meth:`SyncEngine.run` returns. ``run_id`` is ``None`` for a dry run.

    ``failures`` holds the first failures of the run (all of them are in ``sync_errors``).
    """

    integration: str
    status: SyncStatus
    counters: SyncCounters
    run_id: int | None = None
    dry_run: bool = False
    error: str | None = None
    failures: list[SyncFailure] = field(default_factory=list)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    #: a failed run's cause may pass (network, 5xx, rate limit, another run holds the lease)
    retriable: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "integration": self.integration,
            "status": self.status.value,
            "dry_run": self.dry_run,
            **self.counters.to_dict(),
            "error": self.error,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "failures": [f.to_dict() for f in self.failures],
        }


@dataclass(frozen=True)
class SyncProgress:
    """A snapshot handed to progress callbacks after each applied page or pushed batch.

    ``total`` is what the current phase expects in all, when the exchange says so.
    """

    run_id: int | None
    integration: str
    phase: str
    object: str
    done: int
    total: int | None
    counters: SyncCounters
