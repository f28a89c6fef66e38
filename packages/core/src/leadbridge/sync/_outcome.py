"""What applying one pulled page or storing one pushed order adds to a run."""

from __future__ import annotations

from dataclasses import dataclass, field

from ._counters import SyncCounters
from ._exchange import ReportObject
from ._results import SyncFailure


@dataclass
class PageOutcome:
    """Counters and failures of a page (or pushed order); ``pairs`` links each pulled object
    to its contact."""

    counters: SyncCounters = field(default_factory=SyncCounters)
    failures: list[SyncFailure] = field(default_factory=list)
    pairs: list[tuple[ReportObject, int]] = field(default_factory=list)

    def add(self, other: PageOutcome) -> None:
        self.counters.add(other.counters)
        self.failures.extend(other.failures)
        self.pairs.extend(other.pairs)
