"""What the job queue holds right now, for metrics and readiness probes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class KindLoad:
    """The jobs of one kind: waiting, running, and how long the oldest due one has waited."""

    queued: int = 0
    running: int = 0
    #: seconds since the oldest queued job could have started (0: none is due)
    oldest_queued_seconds: float = 0.0


@dataclass(frozen=True)
class WorkerHeartbeat:
    """The queue's workers as they report themselves: how many, and the newest heartbeat."""

    workers: int
    newest: datetime | None
    #: seconds since ``newest`` (``None``: no worker reports)
    age_seconds: float | None

    def to_dict(self) -> dict[str, object]:
        return {
            "workers": self.workers,
            "last_heartbeat": self.newest.isoformat() if self.newest else None,
            "age_seconds": round(self.age_seconds, 3) if self.age_seconds is not None else None,
        }


@dataclass(frozen=True)
class JobQueueSnapshot:
    """Jobs by kind (every kind the runner knows, idle ones included) and, on PostgreSQL,
    the workers' heartbeat (``None`` where workers keep none: the embedded runner)."""

    kinds: Mapping[str, KindLoad] = field(default_factory=dict)
    heartbeat: WorkerHeartbeat | None = None
