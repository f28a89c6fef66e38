"""``GET /metrics``: the Prometheus text exposition, optionally behind a bearer token."""

from __future__ import annotations

import hmac
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response

from leadbridge.observability import METRICS_CONTENT_TYPE, DatabasePoolCollector, render_metrics

from ._view import error_response


class MetricsEndpoint:
    """Serves every ``leadbridge_*`` metric and the pool gauges of the engine ``engine()`` returns.

    With a ``token``, a scrape must send ``Authorization: Bearer <token>`` (Prometheus:
    ``authorization: {credentials: ...}``); without one, ``/metrics`` is open, for a gateway
    that only a private network reaches.
    """

    def __init__(self, engine: Callable[[], AsyncEngine], token: str | None) -> None:
        self._engine = engine
        self._expected = f"Bearer {token}".encode() if token else None

    async def respond(self, request: Request) -> Response:
        if self._expected is not None:
            given = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(given, self._expected):
                return error_response(401, "a valid metrics token is required", "UNAUTHENTICATED")
        body = render_metrics(DatabasePoolCollector(self._engine()))
        return Response(body, media_type=METRICS_CONTENT_TYPE)
