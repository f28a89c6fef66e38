"""``GET /readyz``: can this gateway serve? The database answers and its schema is current."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse

from leadbridge import db

log = logging.getLogger("leadbridge.gateway")

#: When the worker last reported (``None``: never); a probe shows it, it does not decide.
Heartbeat = Callable[[], Awaitable[datetime | None]]


class ReadinessProbe:
    """Answers ``/readyz`` with one short read-only connection per probe.

    The installed migration scripts (and the plugin entry points that locate them) are read
    on the first probe and kept: they do not change while the process runs. ``heartbeat``,
    when given, adds ``worker.last_heartbeat`` to the answer.
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
        try:
            # Read-only: a probe must not queue for SQLite's write lock.
            engine = self._engine().execution_options(**{db.READ_ONLY: True})
            branches = await self._status.read(engine)
        except Exception as exc:  # any failure to reach the database means not ready
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
        if self._heartbeat is not None:
            beat = await self._heartbeat()
            body["worker"] = {"last_heartbeat": beat.isoformat() if beat else None}
        return JSONResponse(body, status_code=200 if not pending else 503)
