"""``leadbridge worker``: run jobs — procrastinate workers on PostgreSQL, the embedded runner
on SQLite. SIGTERM or SIGINT stops it gracefully (a sync ends after its page, exit 0).
``--metrics-port`` serves ``/metrics`` from the worker."""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated

import typer

from ..container import CoreContainer
from ..observability import JobQueueReader, MetricsServer, configure_tracing
from ._common import err_console, run


def worker_cmd(
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, max=64, help="Jobs run at once (PostgreSQL).")
    ] = 1,
    queue: Annotated[
        list[str] | None,
        typer.Option(
            "--queue",
            help="Only jobs of this queue: sync, segments, prune, schedules, … "
            "(repeat; default: all; PostgreSQL).",
        ),
    ] = None,
    stalled_after: Annotated[
        float,
        typer.Option(
            "--stalled-after",
            min=1.0,
            help="Seconds without a worker heartbeat before its jobs are run elsewhere.",
        ),
    ] = 30.0,
    poll: Annotated[
        float, typer.Option("--poll", min=0.1, help="Seconds between looks for due work.")
    ] = 5.0,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            "--metrics-port",
            min=0,
            max=65535,
            help="Serve Prometheus metrics on this port: GET /metrics (0: any free port; "
            "default: none).",
        ),
    ] = None,
    metrics_host: Annotated[
        str,
        typer.Option(
            "--metrics-host", help="The address --metrics-port listens on (0.0.0.0: every one)."
        ),
    ] = "127.0.0.1",
) -> None:
    """Run jobs until SIGTERM/SIGINT: queued jobs and due schedules (PostgreSQL: any number
    of workers on any machines; SQLite: one worker, in this process)."""

    async def body(c: CoreContainer) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        configure_tracing(c.engine())  # only when OTEL_* variables ask for traces
        jobs = c.job_queue()
        read: JobQueueReader = jobs.snapshot if jobs.available else c.embedded_runner().snapshot
        metrics = None
        if metrics_port is not None:
            metrics = MetricsServer(metrics_host, metrics_port, job_queue=read)
            port = await metrics.start()
            err_console.print(
                f"worker: metrics on http://{metrics_host}:{port}/metrics", soft_wrap=True
            )
        try:
            await work(c, stop)
        finally:
            if metrics is not None:
                metrics.close()

    async def work(c: CoreContainer, stop: asyncio.Event) -> None:
        jobs = c.job_queue()
        if not jobs.available:
            if concurrency != 1 or queue:
                err_console.print(
                    "[yellow]note:[/yellow] on SQLite one worker runs one job at a time; "
                    "--concurrency and --queue apply to PostgreSQL",
                    soft_wrap=True,
                )
            err_console.print("worker: running due schedules in this process (SQLite)")
            await c.embedded_runner().run_forever(stop)
            return
        async with jobs:
            err_console.print(
                f"worker: procrastinate queue, concurrency {concurrency}, "
                f"queues {', '.join(queue) if queue else 'all'}",
                soft_wrap=True,
            )
            await jobs.run_worker(
                stop,
                concurrency=concurrency,
                queues=queue,
                heartbeat_interval=max(stalled_after / 3, 0.2),
                stalled_after=stalled_after,
                poll_interval=poll,
            )

    run(body)
    err_console.print("worker stopped")
