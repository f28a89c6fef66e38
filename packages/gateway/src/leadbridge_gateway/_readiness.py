"""``GET /readyz``: can this gateway serve? The database answers and its schema is current;
on PostgreSQL the answer also shows the job workers' newest heartbeat."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse

from leadbridge import db
from leadbridge.jobs import WorkerHeartbeat

log = logging.getLogger("leadbridge.gateway")

#: The job workers' heartbeat (``None``: this database keeps none, SQLite); a probe shows
#: it, it does not decide readiness.
Heartbeat = Callable[[], Awaitable[WorkerHeartbeat | None]]
#: Seconds a probe waits for the heartbeat before it answers without it.
_HEARTBEAT_TIMEOUT = 1.0


class ReadinessProbe:
    """Answers ``/readyz`` with one short read-only connection per probe.

    The installed migration scripts (and the plugin entry points that locate them) are read
    on the first probe and kept: they do not change while the process runs. ``heartbeat``,
    when given, adds ``worker`` to the answer: ``workers`` reporting, ``last_heartbeat`` and
    its ``age_seconds``. No worker, or an old heartbeat, leaves the gateway ready: it serves
    without one (jobs wait); alert on ``leadbridge_jobs_worker_heartbeat_age_seconds``.
    """

    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        migration_locations: Callable[[], Sequence[Path]],
        heartbeat: Heartbeat | None = None,
    ) -> None:
        self._engine = engine
        self._locations = migration_locations
        self._status: db.MigrationStatus | None = None
        self._heartbeat = heartbeat

    async def respond(self, _request: Request) -> JSONResponse:
        if self._status is None:
            self._status = db.MigrationStatus(self._locations())
        # The heartbeat is read alongside the migration state: a probe waits for one round.
        beating = asyncio.ensure_future(self._beat()) if self._heartbeat is not None else None
        try:
            # Read-only: a probe must not queue for SQLite's write lock.
            engine = self._engine().execution_options(**{db.READ_ONLY: True})
            branches = await self._status.read(engine)
        except Exception as exc:  # any failure to reach the database means not ready
            if beating is not None:
                beating.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await beating
            log.warning("readiness check failed", exc_info=exc)
            # The class only: a driver's message may carry the host or the user.
            return JSONResponse(
                {"status": "unavailable", "database": f"unreachable ({type(exc).__name__})"},
                status_code=503,
            )
        pending = sorted(b for b, info in branches.items() if not info["up_to_date"])
        body: dict[str, Any] = {
            "status": "ok" if not pending else "unavailable",
            "database": "ok",
            "migrations": {b: info["current"] for b, info in sorted(branches.items())},
        }
        if pending:
            body["pending"] = pending
            body["hint"] = "run `leadbridge db upgrade`"
        beat = await beating if beating is not None else None
        if beat is not None and not pending:  # pending: the queue's tables may not exist yet
            body["worker"] = self._worker(beat)
        return JSONResponse(body, status_code=200 if not pending else 503)

    async def _beat(self) -> WorkerHeartbeat | Exception | None:
        assert self._heartbeat is not None
        try:
            return await asyncio.wait_for(self._heartbeat(), _HEARTBEAT_TIMEOUT)
        except Exception as exc:
            return exc

    @staticmethod
    def _worker(beat: WorkerHeartbeat | Exception) -> dict[str, object]:
        if isinstance(beat, Exception):  # the database answered a moment ago: stay ready
            log.warning("reading the workers' heartbeat failed", exc_info=beat)
            return {"heartbeat": f"unreadable ({type(beat).__name__})"}
        worker = beat.to_dict()
        if beat.workers == 0:
            worker["note"] = "no worker reports a heartbeat: queued jobs wait for one"
        return worker
