"""What a run counts: objects pulled, contacts created and updated, pushes, failures."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields


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
COUNTER_NAMES = tuple(f.name for f in fields(SyncCounters))
