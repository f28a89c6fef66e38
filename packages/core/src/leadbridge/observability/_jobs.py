"""The job queue's gauges, read from the database when a scrape asks for them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from ..jobs import JobQueueSnapshot

log = logging.getLogger("leadbridge.observability")

#: Reads what the queue holds (``JobQueue.snapshot``, ``EmbeddedRunner.snapshot``).
JobQueueReader = Callable[[], Awaitable["JobQueueSnapshot"]]

#: Seconds a scrape waits for the queue's numbers before it answers without them.
JOB_QUEUE_READ_TIMEOUT = 2.0


async def read_job_queue(
    read: JobQueueReader, seconds: float = JOB_QUEUE_READ_TIMEOUT
) -> JobQueueSnapshot | None:
    """``read()``, or ``None`` when it fails or takes longer than ``seconds``: a
    scrape answers with what it has when the database is down or slow."""
    try:
        return await asyncio.wait_for(read(), seconds)
    except Exception as exc:  # TimeoutError included: a scrape never hangs or fails on it
        # The class only: a driver's message may carry the host or the user.
        log.warning("the job queue could not be read for metrics (%s)", type(exc).__name__)
        return None


class JobQueueCollector(Collector):
    """``leadbridge_jobs_*`` gauges of a :class:`~leadbridge.jobs.JobQueueSnapshot`, and
    ``leadbridge_jobs_queue_up`` (0 and nothing else when ``snapshot`` is ``None``)."""

    def __init__(self, snapshot: JobQueueSnapshot | None) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snapshot = self._snapshot
        yield GaugeMetricFamily(
            "leadbridge_jobs_queue_up",
            "1 when this scrape read the job queue; 0 when the database did not answer in "
            "time (the other leadbridge_jobs_* gauges are then missing).",
            value=0.0 if snapshot is None else 1.0,
        )
        if snapshot is None:
            return
        queued = GaugeMetricFamily(
            "leadbridge_jobs_queued", "Jobs waiting to run, by kind.", labels=["kind"]
        )
        oldest = GaugeMetricFamily(
            "leadbridge_jobs_oldest_queued_age_seconds",
            "How long the oldest due job has waited for a worker, by kind (0: none waits).",
            labels=["kind"],
        )
        running = GaugeMetricFamily(
            "leadbridge_jobs_running", "Jobs running now, by kind.", labels=["kind"]
        )
        for kind, load in sorted(snapshot.kinds.items()):
            queued.add_metric([kind], float(load.queued))
            oldest.add_metric([kind], load.oldest_queued_seconds)
            running.add_metric([kind], float(load.running))
        yield from (queued, oldest, running)
        heartbeat = snapshot.heartbeat
        if heartbeat is None:
            return
        yield GaugeMetricFamily(
            "leadbridge_jobs_workers",
            "Workers that report a heartbeat (stalled ones until they are pruned).",
            value=float(heartbeat.workers),
        )
        if heartbeat.age_seconds is not None:
            yield GaugeMetricFamily(
                "leadbridge_jobs_worker_heartbeat_age_seconds",
                "Seconds since the newest worker heartbeat.",
                value=heartbeat.age_seconds,
            )
