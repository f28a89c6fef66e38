"""The embedded runner: one process runs due schedules by calling the job functions (SQLite)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from ..db import utcnow
from ..observability import record_job_failed
from ..sync import SyncRunService, SyncStatus
from ._catalog import JobCatalog
from ._errors import JobError, JobInterruptedError
from ._kinds import JobKind
from ._schedules import ScheduleService
from ._snapshot import JobQueueSnapshot, KindLoad

log = logging.getLogger("leadbridge.jobs")


@dataclass(frozen=True)
class Fired:
    """One job the runner ran: its kind, what it said, and whether it failed."""

    kind: str
    target: str | None
    outcome: str
    failed: bool
    schedule_id: int | None = None


class EmbeddedRunner:
    """Runs due schedules in this process, one job at a time — no queue, the same jobs.

    Runs that a stop left ``queued`` are resumed first. ``poll_interval`` is how often it
    looks for due schedules (cron has minute resolution).
    """

    def __init__(
        self,
        catalog: JobCatalog,
        schedules: ScheduleService,
        sync_runs: SyncRunService,
        *,
        clock: Callable[[], datetime] = utcnow,
        poll_interval: float = 5.0,
    ) -> None:
        self._catalog = catalog
        self._schedules = schedules
        self._runs = sync_runs
        self._clock = clock
        self._poll = poll_interval
        #: the jobs of this pass not run yet (kind, since when) and the one running
        self._waiting: list[tuple[str, datetime]] = []
        self._running: str | None = None

    async def run_due(
        self, now: datetime | None = None, *, stop: asyncio.Event | None = None
    ) -> list[Fired]:
        """Resume stopped runs, then run every schedule due at ``now``; returns what ran."""
        fired: list[Fired] = []
        resumed = list(reversed(await self._runs.runs(status=SyncStatus.QUEUED, limit=100)))
        self._waiting = [(JobKind.SYNC.value, run.started_at) for run in resumed]
        try:
            for run in resumed:
                if stop is not None and stop.is_set():
                    return fired
                arguments = {
                    "integration": run.integration,
                    "options": run.options,
                    "run_id": run.id,
                    "trigger": run.trigger,
                }
                fired.append(await self._run(JobKind.SYNC, run.integration, arguments, None, stop))
            claimed = await self._schedules.claim_due(now or self._clock())
            self._waiting = [(s.kind, s.last_fired_at or self._clock()) for s in claimed]
            for schedule in claimed:
                if stop is not None and stop.is_set():
                    break
                arguments = JobCatalog.arguments_of(schedule)
                done = await self._run(schedule.kind, schedule.target, arguments, schedule.id, stop)
                await self._schedules.record_outcome(schedule.id, done.outcome)
                fired.append(done)
        finally:
            self._waiting = []
        return fired

    async def snapshot(self) -> JobQueueSnapshot:
        """What this runner knows: the job it runs, those of its pass still waiting, and the
        schedules due but not claimed yet (it is busy), by kind; a wait starts when due.
        """
        now = self._clock()
        waiting = list(self._waiting)
        waiting += [
            (s.kind, s.next_due_at)
            for s in await self._schedules.list()
            if s.enabled and s.next_due_at <= now
        ]
        loads = {name: KindLoad() for name in self._catalog.names}
        for kind in {kind for kind, _ in waiting}:
            since = [at for k, at in waiting if k == kind]
            oldest = max((now - min(since)).total_seconds(), 0.0)
            loads[kind] = KindLoad(queued=len(since), oldest_queued_seconds=oldest)
        if self._running is not None:
            load = loads.get(self._running, KindLoad())
            loads[self._running] = replace(load, running=1)
        return JobQueueSnapshot(loads)

    async def _run(
        self,
        kind: str,
        target: str | None,
        arguments: dict[str, object],
        schedule_id: int | None,
        stop: asyncio.Event | None,
    ) -> Fired:
        if self._waiting:
            self._waiting.pop(0)
        self._running = kind
        try:
            outcome = await self._catalog.run(kind, arguments, stop=stop)
        except JobInterruptedError as exc:
            return Fired(kind, target, str(exc), False, schedule_id)
        except JobError as exc:
            log.warning("job %s %s failed: %s", kind, target or "", exc)
            record_job_failed(kind)
            return Fired(kind, target, f"failed: {exc}", True, schedule_id)
        except Exception as exc:  # one broken job must not stop the runner
            log.exception("job %s %s failed", kind, target or "")
            record_job_failed(kind)
            return Fired(kind, target, f"failed: {type(exc).__name__}: {exc}", True, schedule_id)
        finally:
            self._running = None
        return Fired(kind, target, outcome, False, schedule_id)

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Run due schedules until ``stop`` is set; a sync in hand ends after its page."""
        while not stop.is_set():
            await self.run_due(stop=stop)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._poll)
