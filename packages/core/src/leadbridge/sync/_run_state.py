"""A run in this process: its options, mode, counters, first failures and stop signals."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from ._counters import SyncCounters
from ._errors import SyncLeaseLostError
from ._options import SyncOptions
from ._outcome import PageOutcome
from ._results import SyncFailure, SyncProgress
from ._run_mode import RunMode

#: Called with a snapshot after each applied page or pushed batch.
ProgressCallback = Callable[[SyncProgress], None]

#: Failures kept in memory for the result (every one is in ``sync_errors``).
_KEEP_FAILURES = 100


class RunCancelled(Exception):
    """Someone asked the run to stop: end after this page, ``cancelled``."""


class RunInterrupted(Exception):
    """The process is stopping: end after this page, leave the run to resume."""


@dataclass
class RunState:
    """A run in this process: what it was asked, what it did so far, whether it must stop."""

    integration: str
    options: SyncOptions
    #: live or dry: how the run's writes and orders land
    mode: RunMode
    run_id: int | None
    progress: ProgressCallback | None
    counters: SyncCounters = field(default_factory=SyncCounters)
    failures: list[SyncFailure] = field(default_factory=list)
    cancel: asyncio.Event = field(default_factory=asyncio.Event)
    #: set by the heartbeat when another run took the lease over
    lost: SyncLeaseLostError | None = None
    stop: asyncio.Event | None = None
    created_since_analyze: int = 0
    created_at_analyze: int = 0

    def tally(self, outcome: PageOutcome) -> None:
        """Add what a page or batch wrote (once its transaction committed) to the run."""
        self.counters.add(outcome.counters)
        room = _KEEP_FAILURES - len(self.failures)
        if room > 0:
            self.failures.extend(outcome.failures[:room])

    def check_stop(self) -> None:
        """Raise when the run must end before its next page: lease lost, cancel, stop."""
        if self.lost is not None:
            raise self.lost
        if self.cancel.is_set():
            raise RunCancelled
        if self.stop is not None and self.stop.is_set():
            raise RunInterrupted
