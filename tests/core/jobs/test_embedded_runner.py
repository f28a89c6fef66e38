from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from dependency_injector import providers

from leadbridge import CoreContainer
from leadbridge.jobs import EmbeddedRunner, ScheduleService
from leadbridge.sync import SyncStatus, SyncTarget, register_sync_target, unregister_sync_target
from leadbridge.testing import MemoryIntegration, define_memory_fields

T0 = datetime(2026, 12, 4, 10, 0, 30, tzinfo=UTC)


@pytest.fixture
def remote() -> Iterator[MemoryIntegration]:
    remote = MemoryIntegration(page_size=5)
    for i in range(12):
        remote.add({"emailAddress": f"e{i}@example.com", "firstName": f"E{i}"})
    register_sync_target("memory", lambda: SyncTarget(remote.exchange(), remote.manual()))
    yield remote
    unregister_sync_target("memory")


def runner(container: CoreContainer) -> tuple[EmbeddedRunner, ScheduleService]:
    container.schedule_service.override(
        providers.Object(ScheduleService(container.session_factory(), clock=lambda: T0))
    )
    return container.embedded_runner(), container.schedule_service()


async def test_the_embedded_runner_fires_a_due_schedule_once(
    container: CoreContainer, remote: MemoryIntegration
) -> None:
    await define_memory_fields(container.custom_field_service())
    embedded, schedules = runner(container)
    schedule = await schedules.add("sync", "memory", "*/5 * * * *")
    assert await embedded.run_due(T0) == []  # not due yet

    fired = await embedded.run_due(schedule.next_due_at)
    assert [(f.kind, f.target, f.failed) for f in fired] == [("sync", "memory", False)]
    runs = await container.sync_run_service().runs("memory")
    assert [(r.trigger, r.status, r.counters.created) for r in runs] == [
        ("schedule", SyncStatus.SUCCEEDED, 12)
    ]
    assert await embedded.run_due(schedule.next_due_at) == []  # the same time: once
    stored = await schedules.get(schedule.id)
    assert stored.last_outcome == f"run {runs[0].id} succeeded: pulled 12, created 12, api_calls 3"
    assert stored.next_due_at == schedule.next_due_at + timedelta(minutes=5)


async def test_a_failing_job_is_recorded_and_the_runner_goes_on(
    container: CoreContainer, remote: MemoryIntegration
) -> None:
    await define_memory_fields(container.custom_field_service())
    embedded, schedules = runner(container)
    remote.bad_credentials = True
    await schedules.add("sync", "memory", "* * * * *")
    await schedules.add("prune", None, "* * * * *")
    fired = await embedded.run_due(T0 + timedelta(minutes=1))
    assert [(f.kind, f.failed) for f in fired] == [("sync", True), ("prune", False)]
    assert "failed" in fired[0].outcome
    listed = {s.kind: s.last_outcome for s in await schedules.list()}
    assert listed["sync"] is not None and listed["sync"].startswith("failed: sync memory")
    assert listed["prune"] == "pruned 0 change-log row(s)"


async def test_a_stopped_run_stays_queued_and_the_runner_resumes_it(
    container: CoreContainer, remote: MemoryIntegration
) -> None:
    await define_memory_fields(container.custom_field_service())
    embedded, _ = runner(container)
    stop = asyncio.Event()
    stopped = await container.sync_service().start(
        "memory", progress=lambda _: stop.set(), stop=stop
    )
    assert stopped.status is SyncStatus.QUEUED and stopped.counters.pulled == 5
    assert stopped.run_id is not None
    run = await container.sync_run_service().get(stopped.run_id)
    assert run.status is SyncStatus.QUEUED and run.finished_at is None

    fired = await embedded.run_due(T0)
    assert [(f.kind, f.failed) for f in fired] == [("sync", False)]
    resumed = await container.sync_run_service().get(stopped.run_id)
    assert resumed.status is SyncStatus.SUCCEEDED
    assert (resumed.counters.pulled, resumed.counters.created) == (12, 12)
    assert await container.contact_service().count() == 12
