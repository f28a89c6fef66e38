"""Serve any ASGI app for real on a loopback port, in a background thread."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from types import TracebackType
from typing import Self

import uvicorn
from starlette.types import ASGIApp


class StartStopContext:
    """``with``/``async with`` for anything with blocking ``start()`` and ``stop()``."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)


class LoopbackServer(StartStopContext):
    """Run ``app`` under uvicorn on ``host:port`` (a free port by default) in a thread.

    ::

        with LoopbackServer(receiver_app) as server:
            httpx.post(server.url + "/hook", ...)

    Also an async context manager. Used by :class:`FakeLivestorm`, and handy for a webhook
    receiver that the fake delivers to.
    """

    def __init__(self, app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self._host, self._port = host, port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._bound: tuple[str, int] | None = None

    def __repr__(self) -> str:
        return f"<LoopbackServer {self.url if self._bound else 'not started'}>"

    @property
    def started(self) -> bool:
        return self._bound is not None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``, without a trailing slash."""
        if self._bound is None:
            raise RuntimeError("the server is not started")
        host, port = self._bound
        return f"http://{host}:{port}"

    def start(self) -> Self:
        if self._thread is not None:
            return self
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._port))
        config = uvicorn.Config(
            self.app,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="loopback-server", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                sock.close()
                raise RuntimeError("the loopback server did not start")
            time.sleep(0.005)
        self._server, self._thread = server, thread
        self._bound = sock.getsockname()[:2]
        return self

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._server = self._thread = None
        self._bound = None
