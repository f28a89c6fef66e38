"""Real ``leadbridge worker`` processes on PostgreSQL (procrastinate)."""

from __future__ import annotations

import asyncio
import itertools
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from leadbridge import CoreContainer
from leadbridge.contacts import ContactRow
from leadbridge.jobs import JobQueue, JobStatus, ScheduleService
from leadbridge.sync import SyncRun, SyncStatus

from .conftest import Workers, idle, wait_for

FINAL = {SyncStatus.SUCCEEDED, SyncStatus.PARTIAL, SyncStatus.FAILED, SyncStatus.CANCELLED}


@pytest.fixture(autouse=True)
def _postgres_only(db_backend: str) -> None:
    if db_backend != "postgres":
        pytest.skip("the job queue and its workers live in PostgreSQL")


async def run_of(container: CoreContainer, run_id: int) -> SyncRun:
    return await container.sync_run_service().get(run_id)


async def ended(container: CoreContainer, run_id: int) -> SyncRun | None:
    run = await run_of(container, run_id)
    return run if run.status in FINAL else None


async def registered(container: CoreContainer, n: int) -> bool:
    async with container.session_factory()() as session:
        count = await session.scalar(text("SELECT count(*) FROM procrastinate_workers"))
    return int(count or 0) >= n


async def people(container: CoreContainer, integration: str) -> list[tuple[str, str | None]]:
    async with container.session_factory()() as session:
        rows = await session.execute(
            select(ContactRow.email, ContactRow.first_name)
            .where(ContactRow.email.like(f"{integration}-%"))
            .order_by(ContactRow.email)
        )
        return [(email, first) for email, first in rows.all()]


def expected(integration: str, n: int) -> list[tuple[str, str | None]]:
    return sorted((f"{integration}-{i}@example.com", f"P{i}") for i in range(n))


async def test_thirty_deferred_syncs_over_three_workers_never_overlap_and_collapse(
    container: CoreContainer, queue: JobQueue, workers: Workers
) -> None:
    for _ in range(3):
        workers.start("--concurrency", "2", LB_TEST_PAGE_DELAY="0.1")
    await wait_for(lambda: registered(container, 3), "three workers", workers)
    names = ["mem0", "mem1", "mem2"]
    returned: dict[str, list[int]] = {name: [] for name in names}
    for name in names:
        for _ in range(10):
            returned[name].append((await queue.defer_sync(name)).id)

    await wait_for(lambda: idle(container), "every job to end", workers)
    for name in names:
        runs = sorted(await container.sync_run_service().runs(name), key=lambda r: r.started_at)
        assert {r.id for r in runs} == set(returned[name])  # each defer got a real run
        assert len(runs) < 10, "duplicate defers of a waiting sync collapse into it"
        assert all(r.status is SyncStatus.SUCCEEDED for r in runs), runs
        for before, after in itertools.pairwise(runs):
            assert before.finished_at is not None and before.finished_at <= after.started_at
        assert await people(container, name) == expected(name, 40)


async def test_a_run_of_a_killed_worker_is_finished_by_another(
    container: CoreContainer, queue: JobQueue, workers: Workers
) -> None:
    slow = {"LB_TEST_PEOPLE": "300", "LB_TEST_PAGE": "25", "LB_TEST_PAGE_DELAY": "0.25"}
    workers.start(**slow)
    workers.start(**slow)
    queued = await queue.defer_sync("mem0")

    async def under_way() -> SyncRun | None:
        run = await run_of(container, queued.id)
        return run if run.status is SyncStatus.RUNNING and run.counters.pulled >= 50 else None

    running = await wait_for(under_way, "the run to pull its first pages", workers)
    victim = workers.by_pid(int(running.holder.rpartition(":")[2]))
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)

    finished = await wait_for(lambda: ended(container, queued.id), "the run to end", workers)
    assert finished.status is SyncStatus.SUCCEEDED, finished.error
    assert finished.holder != running.holder
    # Nothing lost, nothing twice: the same contacts and counters as one uninterrupted run.
    assert await people(container, "mem0") == expected("mem0", 300)
    assert (finished.counters.pulled, finished.counters.created) == (300, 300)


async def test_sigterm_ends_the_page_in_hand_and_exits_0(
    container: CoreContainer, queue: JobQueue, workers: Workers
) -> None:
    slow = {"LB_TEST_PEOPLE": "300", "LB_TEST_PAGE": "25", "LB_TEST_PAGE_DELAY": "0.25"}
    worker = workers.start(**slow)
    queued = await queue.defer_sync("mem0")

    async def under_way() -> SyncRun | None:
        run = await run_of(container, queued.id)
        return run if run.status is SyncStatus.RUNNING and run.counters.pulled >= 25 else None

    await wait_for(under_way, "the run to pull its first page", workers)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=30) == 0, workers.logs()

    stopped = await run_of(container, queued.id)
    assert stopped.status is SyncStatus.QUEUED and 0 < stopped.counters.pulled < 300
    [job] = await queue.jobs(kind="sync")
    assert job.status is JobStatus.TODO and job.run_id == queued.id

    workers.start(**slow)  # the next worker resumes it from its last committed page
    finished = await wait_for(lambda: ended(container, queued.id), "the run to end", workers)
    assert finished.status is SyncStatus.SUCCEEDED, finished.error
    assert await people(container, "mem0") == expected("mem0", 300)
    assert (finished.counters.pulled, finished.counters.created) == (300, 300)


async def test_a_fatal_failure_fails_once_and_a_retriable_one_is_retried(
    container: CoreContainer, queue: JobQueue, workers: Workers, tmp_path: Path
) -> None:
    marker = tmp_path / "failed-once"
    workers.start(LB_TEST_FAIL=f"mem1:fatal,mem2:retriable:{marker}")
    fatal = await queue.defer_sync("mem1")
    retriable = await queue.defer_sync("mem2")
    await wait_for(lambda: idle(container), "both jobs to end", workers)

    jobs = {j.target: j for j in await queue.jobs(kind="sync")}
    assert jobs["mem1"].status is JobStatus.FAILED
    assert jobs["mem1"].attempts == 1, "a fatal failure is not retried"
    assert "credentials rejected" in (jobs["mem1"].last_error or "")
    failed = await run_of(container, fatal.id)
    assert failed.status is SyncStatus.FAILED and "credentials rejected" in (failed.error or "")

    assert marker.exists()
    assert jobs["mem2"].status is JobStatus.SUCCEEDED
    assert jobs["mem2"].attempts == 2, "a retriable failure is retried"
    assert "503" in (jobs["mem2"].last_error or "")
    recovered = await run_of(container, retriable.id)
    assert recovered.status is SyncStatus.SUCCEEDED and recovered.error is None
    assert await people(container, "mem2") == expected("mem2", 40)

    # An operator retries the failed job: the same run runs again (and fails again, the
    # credentials being still wrong).
    retried = await queue.retry(jobs["mem1"].id)
    assert retried.status is JobStatus.TODO
    await wait_for(lambda: idle(container), "the retried job to end", workers)
    again = await queue.get(jobs["mem1"].id)
    assert again.status is JobStatus.FAILED and again.attempts > jobs["mem1"].attempts
    assert [r.id for r in await container.sync_run_service().runs("mem1")] == [fatal.id]


async def test_a_schedule_fires_once_per_tick_across_three_workers(
    container: CoreContainer, queue: JobQueue, workers: Workers
) -> None:
    for _ in range(3):
        workers.start()
    t0 = datetime(2030, 1, 1, 0, 0, 30, tzinfo=UTC)  # the injected clock: no waiting for minutes
    schedules = ScheduleService(container.session_factory(), clock=lambda: t0)
    schedule = await schedules.add("sync", "mem0", "* * * * *")
    # Each worker's periodic deferrer, at the same moments: three deferrers, one queue.
    minutes = [schedule.next_due_at, schedule.next_due_at + timedelta(minutes=1)]
    deferrers = [
        JobQueue(
            container.settings().database_url,
            container.job_catalog(),
            schedules,
            container.session_factory(),
        )
        for _ in range(3)
    ]
    for deferrer in deferrers:
        await deferrer.open()
    try:
        for minute in minutes:
            at = minute + timedelta(seconds=5)
            await asyncio.gather(*(d.defer_tick(at) for d in deferrers))
            await wait_for(lambda: idle(container), "the tick and its sync to end", workers)
    finally:
        for deferrer in deferrers:
            await deferrer.close()

    async with container.session_factory()() as session:
        stamps = (
            await session.scalars(
                text(
                    "SELECT (args->>'timestamp')::bigint FROM procrastinate_jobs "
                    "WHERE task_name = 'leadbridge.tick' AND (args->>'timestamp')::bigint >= :t"
                ),
                {"t": int(t0.timestamp())},
            )
        ).all()
    assert sorted(stamps) == [int(m.timestamp()) for m in minutes]  # one tick a minute
    runs = await container.sync_run_service().runs("mem0")
    assert [(r.trigger, r.status) for r in runs] == [("schedule", SyncStatus.SUCCEEDED)] * 2
    stored = await schedules.get(schedule.id)
    assert stored.last_fired_at == minutes[1]
    assert stored.last_outcome is not None and stored.last_outcome.startswith(f"run {runs[0].id}")
