"""What a run leaves behind: its status, its record, its result, its failures, its progress."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from ._counters import COUNTER_NAMES, SyncCounters
from ._models import SyncRunRow
from ._options import SyncDirection


class SyncStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for a worker (PostgreSQL), or stopped to resume there
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"  # finished, some objects failed (see the run's errors)
    FAILED = "failed"  # could not proceed; nothing past the last applied page moved
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class SyncFailure:
    """One object that failed, pulling or pushing (``direction``; a plain ``"pull"`` or
    ``"push"`` is accepted and stored as the enum)."""

    direction: SyncDirection
    object: str
    message: str
    integration_id: str | None = None
    contact_id: int | None = None
    field: str | None = None
    run_id: int | None = None
    skipped: bool = False
    created_at: datetime | None = None
    resolved_at: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "direction", SyncDirection(self.direction))

    def to_row(self, integration: str, now: datetime) -> dict[str, Any]:
        """The ``sync_errors`` row recording this failure of ``integration`` at ``now``."""
        return {
            "run_id": self.run_id,
            "integration": integration,
            "object": self.object,
            "direction": self.direction.value,
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
        counters = SyncCounters(**{name: getattr(row, name) for name in COUNTER_NAMES})
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
    phase: SyncDirection
    object: str
    done: int
    total: int | None
    counters: SyncCounters
