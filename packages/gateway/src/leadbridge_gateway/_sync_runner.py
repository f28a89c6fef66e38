"""Syncs started through the API, returned to the caller at once: queued for a worker on
PostgreSQL (no sync runs inside a gateway process there), run in the background on SQLite."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from contextlib import suppress

from leadbridge import LeadBridgeError
from leadbridge.jobs import JobQueue
from leadbridge.sync import (
    SyncOptions,
    SyncProgress,
    SyncResult,
    SyncRun,
    SyncRunService,
    SyncService,
    SyncStatus,
    SyncTrigger,
)

log = logging.getLogger("leadbridge.gateway")

#: How often :meth:`SyncRunner.start` looks for the row of the run it started.
_POLL = 0.02


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
        # The engine records its holder as host:pid; it tells our run from another process'.
        self._holder = f"{socket.gethostname()}:{os.getpid()}"
        self._tasks: set[asyncio.Task[SyncResult]] = set()
        # Tasks whose caller already has its run: only the log hears how they end.
        self._handed_over: set[asyncio.Task[SyncResult]] = set()

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
        newest = await self._runs.runs(integration, limit=1)
        before = newest[0].id if newest else 0
        loop = asyncio.get_running_loop()
        first_id: asyncio.Future[int] = loop.create_future()

        def progress(p: SyncProgress) -> None:
            if p.run_id is not None and not first_id.done():
                first_id.set_result(p.run_id)

        task = asyncio.create_task(
            self._sync.start(integration, options, SyncTrigger.API, progress=progress),
            name=f"sync {integration}",
        )
        self._tasks.add(task)
        task.add_done_callback(self._done)
        while True:
            if first_id.done():
                self._hand_over(task)
                return await self._runs.get(first_id.result())
            if task.done():
                result = task.result()  # raises what the start raised
                assert result.run_id is not None  # API runs are never dry runs
                return await self._runs.get(result.run_id)
            running = await self._runs.runs(integration, status=SyncStatus.RUNNING, limit=1)
            if running and running[0].id > before and running[0].holder == self._holder:
                self._hand_over(task)
                return running[0]
            await asyncio.wait({task}, timeout=_POLL)

    def _hand_over(self, task: asyncio.Task[SyncResult]) -> None:
        if task not in self._tasks:  # it ended already and _done saw it
            self._log_failure(task)
        else:
            self._handed_over.add(task)

    def _done(self, task: asyncio.Task[SyncResult]) -> None:
        self._tasks.discard(task)
        if task in self._handed_over:
            self._handed_over.discard(task)
            self._log_failure(task)
        elif not task.cancelled():
            task.exception()  # the caller of start() gets it

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
