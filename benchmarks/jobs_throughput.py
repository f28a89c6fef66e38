"""jobs_throughput: small sync jobs through the job queue (PostgreSQL, procrastinate).

2,000 jobs (smoke: 40), each the pull of its own memory integration (10 people, one page, 20 ms
of simulated remote latency), through 1 worker process x concurrency 1 and through 4 worker
processes x concurrency 4. The jobs are queued first; the time runs from the first run's start
to the last run's end (worker start-up is not counted). Floor: the same syncs through the engine
directly (the container's engine, with the plugins' subscribers a worker has too), one after
another, in this process — ``overhead_ms_per_job`` is what the queue adds
to each job at 1 x 1. Targets: overhead ≤ 15 ms a job; 4 x 4 ≥ 3 x the rate of 1 x 1.

On SQLite there is no queue: the same jobs run through the embedded runner's job function
(``JobCatalog.run``), one after another, against the same floor.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from leadbridge.jobs import JobCatalog, JobQueue
from leadbridge.sync import SyncOptions, SyncRunRow, SyncStatus, SyncTrigger

from ._common import peak_rss_mb, result
from ._jobs_worker import OBJECTS, register, remote
from ._sync_common import FIELDS, close, open_store

SCALES = {"smoke": 40, "full": 2_000}
#: Pull only: a new integration's first push would send it every contact the others made,
#: and each job would cost more than the one before.
PULL = SyncOptions(pull_only=True)
ROOT = Path(__file__).resolve().parent.parent


async def _floor(container: Any, prefix: str, n: int) -> float:
    engine = container.sync_engine()  # the engine a worker's jobs run, its subscribers too
    started = time.perf_counter()
    for index in range(n):
        made = remote(prefix, index)
        outcome = await engine.run(made.exchange(), made.manual(only=FIELDS), PULL)
        if outcome.status is not SyncStatus.SUCCEEDED:
            raise RuntimeError(f"jobs_throughput floor: {outcome.to_dict()}")
    return time.perf_counter() - started


async def _span(container: Any, prefix: str, n: int, workers: list[Any]) -> float:
    """Seconds from the first run's start to the last one's end, once all ``n`` ended."""
    like = SyncRunRow.integration.like(f"{prefix}%")
    deadline = time.monotonic() + 60 + n * 0.5
    while True:
        async with container.session_factory()() as session:
            done, failed = (
                await session.execute(
                    select(
                        func.count().filter(SyncRunRow.status == SyncStatus.SUCCEEDED.value),
                        func.count().filter(SyncRunRow.status == SyncStatus.FAILED.value),
                    ).where(like)
                )
            ).one()
            if failed:
                raise RuntimeError(f"jobs_throughput: {failed} run(s) of {prefix} failed")
            if done == n:
                first, last = (
                    await session.execute(
                        select(
                            func.min(SyncRunRow.started_at), func.max(SyncRunRow.finished_at)
                        ).where(like)
                    )
                ).one()
                return float((last - first).total_seconds())
        for proc in workers:
            if proc.poll() is not None:
                raise RuntimeError(f"jobs_throughput: a worker exited with {proc.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"jobs_throughput: {prefix}: {done}/{n} runs ended in time")
        await asyncio.sleep(0.2)


async def _through_workers(
    container: Any, queue: JobQueue, prefix: str, n: int, processes: int, concurrency: int
) -> float:
    for index in range(n):
        await queue.defer_sync(f"{prefix}{index}", PULL, trigger=SyncTrigger.API)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = ["--concurrency", str(concurrency), "--poll", "0.2", "--queue", "sync"]
    workers = [
        subprocess.Popen(  # noqa: ASYNC220 - started once, before the measured span
            [sys.executable, "-m", "benchmarks._jobs_worker", prefix, str(n), *args],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(processes)
    ]
    try:
        return await _span(container, prefix, n, workers)
    finally:
        for proc in workers:
            proc.terminate()
        for proc in workers:
            proc.wait(timeout=40)


async def _embedded(container: Any, prefix: str, n: int) -> float:
    register(prefix, n)
    catalog: JobCatalog = container.job_catalog()
    started = time.perf_counter()
    for index in range(n):
        arguments = {"integration": f"{prefix}{index}", "options": PULL.to_dict()}
        await catalog.run("sync", arguments)
    return time.perf_counter() - started


async def _run(db: str, scale: str, database_url: str) -> dict[str, Any]:
    n = SCALES[scale]
    os.environ["LEADBRIDGE_DATABASE_URL"] = database_url
    container = await open_store(database_url)
    try:
        floor = await _floor(container, "floor", n)
        if db == "sqlite":
            seconds = await _embedded(container, "embedded", n)
            return result(
                "jobs_throughput",
                db,
                n,
                seconds,
                floor,
                runner="embedded (SQLite has no queue)",
                objects_per_job=OBJECTS,
                overhead_ms_per_job=round(1000 * (seconds - floor) / n, 2),
            )
        async with container.job_queue() as queue:
            one = await _through_workers(container, queue, "one", n, 1, 1)
            many = await _through_workers(container, queue, "many", n, 4, 4)
        async with container.session_factory()() as session:
            queued = await session.scalar(text("SELECT count(*) FROM procrastinate_jobs"))
    finally:
        await close(container)
    return result(
        "jobs_throughput",
        db,
        n,
        one,
        floor,
        peak_rss_mb(),
        objects_per_job=OBJECTS,
        jobs_per_s_1x1=round(n / one, 1),
        jobs_per_s_4x4=round(n / many, 1),
        seconds_4x4=round(many, 3),
        speedup_4x4=round(one / many, 2),
        overhead_ms_per_job=round(1000 * (one - floor) / n, 2),
        jobs_queued=int(queued or 0),
    )


def run(db: str, scale: str, database_url: str) -> dict[str, Any]:
    return asyncio.run(_run(db, scale, database_url))
