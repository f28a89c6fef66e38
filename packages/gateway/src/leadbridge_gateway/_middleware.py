"""ASGI middleware: the request body size limit; a retryable answer when the database is busy."""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadbridge.db import is_busy_database_error

from ._database_busy import BUSY_MESSAGE, RETRY_AFTER_SECONDS
from ._errors import ServiceUnavailableError
from ._view import error_response

log = logging.getLogger("leadbridge.gateway")


class _TooLargeError(Exception):
    pass


class BodySizeLimit:
    """Answer 413 to a request whose body is larger than ``max_bytes``.

    A declared ``Content-Length`` is refused before reading; a chunked body is counted as it
    streams in, and refused as soon as it passes the limit.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max_bytes:
                    await self._refuse(scope, receive, send)
                    return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLargeError
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLargeError:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413,
            f"the request body is larger than {self.max_bytes} bytes",
            "PAYLOAD_TOO_LARGE",
        )
        response.headers["connection"] = "close"
        await response(scope, receive, send)


class DatabaseBusyAnswer:
    """Answer ``503`` with ``Retry-After`` when a route fails on a busy database.

    For plain HTTP routes (webhooks, icons): a lock held too long by another process is not
    the request's fault, and a sender that sees 503 delivers again later. ``/graphql``
    answers the same case with a ``SERVICE_UNAVAILABLE`` error of its own.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started or not is_busy_database_error(exc):
                raise
            log.warning(
                "database busy on %s (%s); answered 503, retry in %d s",
                scope["path"],
                type(exc).__name__,
                RETRY_AFTER_SECONDS,
            )
            response = error_response(503, BUSY_MESSAGE, ServiceUnavailableError.code)
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
            await response(scope, receive, send)
