"""``leadbridge worker --metrics-port``: a real worker process, scraped after real jobs ran."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from leadbridge import CoreContainer
from leadbridge.jobs import JobKind, JobQueue, JobStatus, ScheduleService
from leadbridge.testing import define_memory_fields
from tests._metrics import Samples, sample

from .conftest import Workers, idle, metrics_url, scrape, wait_for

#: Once a year: due at once when added on a clock in the past, then not again in a test.
YEARLY = "0 0 1 1 *"


def jobs_of(samples: Samples, kind: str) -> tuple[float | None, float | None]:
    """(queued, running) of ``kind``."""
    return (
        sample(samples, "leadbridge_jobs_queued", kind=kind),
        sample(samples, "leadbridge_jobs_running", kind=kind),
    )


@pytest.fixture
def postgres(db_backend: str) -> None:
    if db_backend != "postgres":
        pytest.skip("the job queue and its workers live in PostgreSQL")


@pytest.mark.usefixtures("postgres")
async def test_the_worker_serves_queued_jobs_by_kind_and_its_heartbeat(
    queue: JobQueue, workers: Workers
) -> None:
    workers.start("--queue", "prune", "--metrics-port", "0")  # syncs wait: nobody takes them
    url = await metrics_url(workers)
    for name in ("mem0", "mem1", "mem2"):
        await queue.defer_sync(name)
    await queue.defer_sync("mem0")  # absorbed by the one waiting: still three
    prune = await queue.defer(JobKind.PRUNE, {})
    assert prune is not None

    async def pruned() -> bool:
        return (await queue.get(prune)).status is JobStatus.SUCCEEDED

    await wait_for(pruned, "the prune job to run", workers)
    samples = await scrape(url)
    assert sample(samples, "leadbridge_jobs_queue_up") == 1
    assert jobs_of(samples, "sync") == (3, 0)
    assert jobs_of(samples, "prune") == (0, 0)
    assert jobs_of(samples, "segments") == (0, 0)  # every kind has its series
    oldest = sample(samples, "leadbridge_jobs_oldest_queued_age_seconds", kind="sync")
    assert oldest is not None and oldest > 0
    assert sample(samples, "leadbridge_jobs_oldest_queued_age_seconds", kind="prune") == 0
    assert (sample(samples, "leadbridge_jobs_workers") or 0) >= 1
    age = sample(samples, "leadbridge_jobs_worker_heartbeat_age_seconds")
    assert age is not None and age >= 0
    assert sample(samples, "leadbridge_jobs_failed_total", kind="prune") is None  # none failed


@pytest.mark.usefixtures("postgres")
async def test_failed_and_retried_jobs_are_counted_by_kind(
    container: CoreContainer, queue: JobQueue, workers: Workers, tmp_path: Path
) -> None:
    marker = tmp_path / "failed-once"
    workers.start("--metrics-port", "0", LB_TEST_FAIL=f"mem1:fatal,mem2:retriable:{marker}")
    url = await metrics_url(workers)
    await queue.defer_sync("mem1")
    await queue.defer_sync("mem2")
    await wait_for(lambda: idle(container), "both jobs to end", workers)

    samples = await scrape(url)
    assert sample(samples, "leadbridge_jobs_failed_total", kind="sync") == 1  # mem1, for good
    assert sample(samples, "leadbridge_jobs_retried_total", kind="sync") == 1  # mem2, once
    assert jobs_of(samples, "sync") == (0, 0)
    # The sync runs behind them are counted too, by integration.
    assert sample(samples, "leadbridge_sync_runs_total", integration="mem2", status="succeeded")


async def test_the_sqlite_worker_serves_what_its_runner_holds(
    container: CoreContainer, workers: Workers, db_backend: str
) -> None:
    if db_backend != "sqlite":
        pytest.skip("the embedded runner runs on SQLite")
    await define_memory_fields(container.custom_field_service())
    # Three schedules due long ago, in this order: a slow sync, a prune, a sync that fails.
    for day, (kind, target) in enumerate(
        [("sync", "mem0"), ("prune", None), ("sync", "mem1")], start=1
    ):
        past = datetime(2020, 1, day, tzinfo=UTC)
        await ScheduleService(container.session_factory(), clock=lambda p=past: p).add(
            kind, target, YEARLY
        )
    slow = {"LB_TEST_PEOPLE": "300", "LB_TEST_PAGE": "25", "LB_TEST_PAGE_DELAY": "0.25"}
    workers.start("--metrics-port", "0", LB_TEST_FAIL="mem1:fatal", **slow)
    url = await metrics_url(workers)

    async def busy() -> Samples | None:
        samples = await scrape(url)
        return samples if jobs_of(samples, "sync") == (1, 1) else None

    samples = await wait_for(busy, "the slow sync to run while the others wait", workers)
    assert jobs_of(samples, "prune") == (1, 0)
    oldest = sample(samples, "leadbridge_jobs_oldest_queued_age_seconds", kind="prune")
    assert oldest is not None and oldest >= 0
    assert sample(samples, "leadbridge_jobs_queue_up") == 1
    assert sample(samples, "leadbridge_jobs_workers") is None  # SQLite keeps no heartbeat

    async def drained() -> Samples | None:
        samples = await scrape(url)
        idle = all(jobs_of(samples, kind) == (0, 0) for kind in ("sync", "prune"))
        return samples if idle else None

    samples = await wait_for(drained, "every job to end", workers)
    assert sample(samples, "leadbridge_jobs_failed_total", kind="sync") == 1  # mem1
    assert sample(samples, "leadbridge_sync_runs_total", integration="mem0", status="succeeded")
