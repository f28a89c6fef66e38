"""ASGI middleware: a request id for every request, in its log lines and its response."""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadbridge.observability import bound_log_context

HEADER = "X-Request-ID"
#: A caller's id is kept only if it is short and plain: it ends up in every log line.
_ACCEPTED = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class RequestId:
    """Binds ``request_id`` to the log context and answers it in ``X-Request-ID``.

    A well-formed ``X-Request-ID`` from the caller (a proxy's) is kept, so one id follows the
    request across services; otherwise a new one is made.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(HEADER.lower().encode(), b"").decode("latin-1")
        request_id = given if _ACCEPTED.fullmatch(given) else uuid.uuid4().hex

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        with bound_log_context(request_id=request_id):
            await self.app(scope, receive, send_with_id)
