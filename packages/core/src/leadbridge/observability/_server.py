"""``GET /metrics`` from a process without a web server of its own (``leadbridge worker``)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from typing import TYPE_CHECKING
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.registry import Collector

from .._errors import ConfigurationError
from ._exposition import MetricsScrape
from ._jobs import JOB_QUEUE_READ_TIMEOUT, JobQueueCollector, JobQueueReader, read_job_queue

if TYPE_CHECKING:
    from ..jobs import JobQueueSnapshot


class MetricsServer:
    """prometheus-client's HTTP server, in a thread, on ``host``:``port`` (``0``: a free
    port, which :meth:`start` returns): every metric, as the gateway's ``/metrics`` serves
    them (merged across processes with ``PROMETHEUS_MULTIPROC_DIR``), plus the gauges of the
    job queue ``job_queue`` reads — on the event loop that called :meth:`start`, so a scrape
    shares this process's database pool; it waits at most ``JOB_QUEUE_READ_TIMEOUT`` seconds.

    Nothing listens until :meth:`start`; :meth:`close` stops listening.
    """

    def __init__(self, host: str, port: int, *, job_queue: JobQueueReader | None = None) -> None:
        self._host = host
        self._port = port
        self._read = job_queue
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    async def start(self) -> int:
        """Listen; returns the port. A port in use (or a host not ours) is a
        :class:`~leadbridge.ConfigurationError` saying so."""
        self._loop = asyncio.get_running_loop()
        registry = CollectorRegistry(auto_describe=False)
        registry.register(MetricsScrape(self._job_collectors))
        try:
            self._server, self._thread = start_http_server(
                self._port, addr=self._host, registry=registry
            )
        except OSError as exc:
            raise ConfigurationError(
                f"cannot serve metrics on {self._host}:{self._port}: {exc.strerror or exc}"
            ) from exc
        return int(self._server.server_port)

    def _job_collectors(self) -> list[Collector]:
        """Runs in the server's thread: reads the queue on the loop, never waits for long."""
        if self._read is None or self._loop is None:
            return []
        snapshot = None
        future: concurrent.futures.Future[JobQueueSnapshot | None] | None = None
        try:
            future = asyncio.run_coroutine_threadsafe(read_job_queue(self._read), self._loop)
            snapshot = future.result(JOB_QUEUE_READ_TIMEOUT + 1.0)
        except (TimeoutError, RuntimeError, concurrent.futures.CancelledError):
            if future is not None:  # the loop is busy or closing: report what we have
                future.cancel()
        return [JobQueueCollector(snapshot)]

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
