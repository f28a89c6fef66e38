"""``GET /metrics``: the Prometheus text exposition, optionally behind a bearer token."""

from __future__ import annotations

import hmac
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response

from leadbridge.jobs import JobQueue
from leadbridge.observability import (
    METRICS_CONTENT_TYPE,
    DatabasePoolCollector,
    JobQueueCollector,
    read_job_queue,
    render_metrics,
)

from ._view import error_response


class MetricsEndpoint:
    """Serves every ``leadbridge_*`` metric, the pool gauges of the engine ``engine()`` returns
    and, on PostgreSQL, the gauges of the job queue ``job_queue()`` returns (read within
    ``JOB_QUEUE_READ_TIMEOUT`` seconds: a scrape answers even when the database does not).

    With a ``token``, a scrape must send ``Authorization: Bearer <token>`` (Prometheus:
    ``authorization: {credentials: ...}``); without one, ``/metrics`` is open, for a gateway
    that only a private network reaches.
    """

    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        token: str | None,
        job_queue: Callable[[], JobQueue] | None = None,
    ) -> None:
        self._engine = engine
        self._expected = f"Bearer {token}".encode() if token else None
        self._job_queue = job_queue

    async def respond(self, request: Request) -> Response:
        if self._expected is not None:
            given = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(given, self._expected):
                return error_response(401, "a valid metrics token is required", "UNAUTHENTICATED")
        pool = DatabasePoolCollector(self._engine())
        queue = self._job_queue() if self._job_queue is not None else None
        if queue is not None and queue.available:
            body = render_metrics(pool, JobQueueCollector(await read_job_queue(queue.snapshot)))
        else:
            body = render_metrics(pool)
        return Response(body, media_type=METRICS_CONTENT_TYPE)
