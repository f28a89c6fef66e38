"""The embedded runner: one process runs due schedules by calling the job functions (SQLite)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ..db import utcnow
from ..sync import SyncRunService, SyncStatus
from ._catalog import JobCatalog
from ._errors import JobError, JobInterruptedError
from ._kinds import JobKind
from ._schedules import ScheduleService

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

    async def run_due(
        self, now: datetime | None = None, *, stop: asyncio.Event | None = None
    ) -> list[Fired]:
        """Resume stopped runs, then run every schedule due at ``now``; returns what ran."""
        fired: list[Fired] = []
        for run in reversed(await self._runs.runs(status=SyncStatus.QUEUED, limit=100)):
            if stop is not None and stop.is_set():
                return fired
            arguments = {
                "integration": run.integration,
                "options": run.options,
                "run_id": run.id,
                "trigger": run.trigger,
            }
            fired.append(await self._run(JobKind.SYNC, run.integration, arguments, None, stop))
        for schedule in await self._schedules.claim_due(now or self._clock()):
            if stop is not None and stop.is_set():
                break
            arguments = JobCatalog.arguments_of(schedule)
            done = await self._run(schedule.kind, schedule.target, arguments, schedule.id, stop)
            await self._schedules.record_outcome(schedule.id, done.outcome)
            fired.append(done)
        return fired

    async def _run(
        self,
        kind: str,
        target: str | None,
        arguments: dict[str, object],
        schedule_id: int | None,
        stop: asyncio.Event | None,
    ) -> Fired:
        try:
            outcome = await self._catalog.run(kind, arguments, stop=stop)
        except JobInterruptedError as exc:
            return Fired(kind, target, str(exc), False, schedule_id)
        except JobError as exc:
            log.warning("job %s %s failed: %s", kind, target or "", exc)
            return Fired(kind, target, f"failed: {exc}", True, schedule_id)
        except Exception as exc:  # one broken job must not stop the runner
            log.exception("job %s %s failed", kind, target or "")
            return Fired(kind, target, f"failed: {type(exc).__name__}: {exc}", True, schedule_id)
        return Fired(kind, target, outcome, False, schedule_id)

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Run due schedules until ``stop`` is set; a sync in hand ends after its page."""
        while not stop.is_set():
            await self.run_due(stop=stop)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._poll)
