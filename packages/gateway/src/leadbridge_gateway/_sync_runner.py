"""Syncs started through the API, returned to the caller at once: queued for a worker on
PostgreSQL (no sync runs inside a gateway process there), run in the background on SQLite."""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress

from leadbridge import LeadBridgeError
from leadbridge.jobs import JobQueue
from leadbridge.sync import (
    SyncOptions,
    SyncResult,
    SyncRun,
    SyncRunService,
    SyncService,
    SyncStatus,
    SyncTrigger,
)

log = logging.getLogger("leadbridge.gateway")


class SyncRunner:
    """Holds the sync tasks the gateway started; :meth:`aclose` cancels them at shutdown.

    A cancelled task ends its run ``cancelled`` (the engine records why), so shutting the
    app down mid-run leaves no run stuck ``running``.
    """

    def __init__(
        self, sync_service: SyncService, sync_run_service: SyncRunService, job_queue: JobQueue
    ) -> None:
        self._sync = sync_service
        self._runs = sync_run_service
        self._queue = job_queue
        # Their callers already have their runs: only the log hears how they end.
        self._tasks: set[asyncio.Task[SyncResult]] = set()

    async def _opened_queue(self) -> JobQueue:
        await self._queue.open()  # connects once, even when requests ask at the same time
        return self._queue

    async def start(self, integration: str, options: SyncOptions) -> SyncRun:
        """Start a sync and return its run as soon as its row exists.

        On PostgreSQL the run is ``queued`` and its job deferred in one transaction; a sync
        of the integration already waiting absorbs it. Raises what starting raises (unknown
        or disabled integration, a mapping that cannot work, and on SQLite
        :class:`~leadbridge.sync.SyncLockedError` when a run holds the lease).
        """
        if self._queue.available:
            await self._sync.target(integration)  # refused now, not later in a worker
            queue = await self._opened_queue()
            return await queue.defer_sync(integration, options, SyncTrigger.API)
        started = await self._sync.begin(integration, options, SyncTrigger.API)
        assert started.run_id is not None  # API runs are never dry runs
        task = asyncio.create_task(started.execute(), name=f"sync {integration}")
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return await self._runs.get(started.run_id)

    def _done(self, task: asyncio.Task[SyncResult]) -> None:
        self._tasks.discard(task)
        self._log_failure(task)

    def _log_failure(self, task: asyncio.Task[SyncResult]) -> None:
        """A sync that failed after its caller got its run: one warning line, for operators.

        The engine logs a run that fails; this is what escaped it (its end could not be
        recorded, its lease was lost). The traceback only when debugging; our errors say
        what happened, another's message may carry a host or a user.
        """
        if task.cancelled() or (exc := task.exception()) is None:
            return
        detail = str(exc) if isinstance(exc, LeadBridgeError) else type(exc).__name__
        log.warning(
            "%s failed: %s",
            task.get_name(),
            detail,
            exc_info=exc if log.isEnabledFor(logging.DEBUG) else None,
        )

    @property
    def running(self) -> int:
        """How many syncs this process is running."""
        return len(self._tasks)

    async def cancel(self, run_id: int) -> SyncRun:
        """Cancel a queued run (its job goes too) or ask a running one to stop after its page."""
        if self._queue.available and (await self._runs.get(run_id)).status is SyncStatus.QUEUED:
            queue = await self._opened_queue()
            return await queue.cancel_run(run_id)
        return await self._runs.cancel(run_id)

    async def aclose(self) -> None:
        """Cancel the running syncs and wait for them to record their end; close the queue."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(asyncio.CancelledError, Exception):
                await task
        await self._queue.close()
