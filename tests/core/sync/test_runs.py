"""Runs: crash safety (injected failure, kill -9), the lease, dry runs, cancel, failures."""

from __future__ import annotations

import asyncio
import signal
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from leadbridge import ConflictError, CoreContainer
from leadbridge.db import utcnow
from leadbridge.sync import (
    SyncCursorRow,
    SyncEngine,
    SyncLeaseRow,
    SyncLockedError,
    SyncOptions,
    SyncRunError,
    SyncRunRow,
    SyncStatus,
)
from leadbridge.testing import MemoryIntegration, define_memory_fields, truncate_all

from . import slow_sync
from .conftest import count, hold_lease, make_engine, row_counts, seeded, snapshot


async def _uninterrupted(store: CoreContainer, remote: MemoryIntegration) -> dict[str, object]:
    """The state an uninterrupted run of ``remote`` leaves in an empty store."""
    await truncate_all(store.engine())
    await define_memory_fields(store.custom_field_service())
    result = await make_engine(store).run(remote.exchange(), remote.manual())
    assert result.status is SyncStatus.SUCCEEDED
    return await snapshot(store)


async def test_failure_after_page_k_then_rerun(store: CoreContainer, engine: SyncEngine) -> None:
    remote = seeded(95, page_size=10)
    remote.fail_after_pages = 4
    failed = await engine.run(remote.exchange(), remote.manual())
    assert failed.status is SyncStatus.FAILED
    assert failed.error == "injected failure: the remote service went away"
    assert (failed.counters.pulled, failed.counters.created) == (40, 40)
    assert await store.contact_service().count() == 40
    assert await store.sync_run_service().cursor("memory", "people") == "40"
    run = await store.sync_run_service().get(failed.run_id or 0)
    assert (run.status, run.counters.created, run.error) == (
        SyncStatus.FAILED,
        40,
        failed.error,
    )

    remote.fail_after_pages = None
    rerun = await engine.run(remote.exchange(), remote.manual())
    assert rerun.status is SyncStatus.SUCCEEDED
    assert (rerun.counters.pulled, rerun.counters.created) == (55, 55)
    resumed = await snapshot(store)

    assert resumed == await _uninterrupted(store, seeded(95, page_size=10))


async def test_bad_credentials_fail_the_run_and_move_no_cursor(
    store: CoreContainer, engine: SyncEngine
) -> None:
    remote = seeded(5)
    remote.bad_credentials = True
    result = await engine.run(remote.exchange(), remote.manual())
    assert result.status is SyncStatus.FAILED
    assert "401 Unauthorized" in (result.error or "")
    assert await count(store, SyncCursorRow) == 0
    assert await store.contact_service().count() == 0
    # The lease was released: the next run starts.
    remote.bad_credentials = False
    assert (await engine.run(remote.exchange(), remote.manual())).status is SyncStatus.SUCCEEDED


async def test_kill_minus_9_mid_run_then_rerun(store: CoreContainer, tmp_path: Path) -> None:
    proc = await slow_sync.start(store, tmp_path)
    try:
        await slow_sync.wait_until_pulled(store, proc, 2 * slow_sync.PAGE)
        proc.send_signal(signal.SIGKILL)
    finally:
        await asyncio.wait_for(proc.wait(), 30)  # reaped: its pid is gone, its lease dead
    assert proc.returncode == -signal.SIGKILL

    killed = (await store.sync_run_service().runs("memory"))[0]
    assert killed.status is SyncStatus.RUNNING  # nobody finished it
    done = await store.contact_service().count()
    assert 0 < done < slow_sync.TOTAL
    assert done % slow_sync.PAGE == 0  # whole pages only
    cursor = await store.sync_run_service().cursor("memory", "people")
    assert cursor == str(done)

    rerun = await make_engine(store).run(slow_sync.build().exchange(), slow_sync.build().manual())
    assert rerun.status is SyncStatus.SUCCEEDED
    assert rerun.counters.created == slow_sync.TOTAL - done
    abandoned = await store.sync_run_service().get(killed.id)
    assert abandoned.status is SyncStatus.FAILED and "abandoned" in (abandoned.error or "")
    resumed = await snapshot(store)

    assert resumed == await _uninterrupted(store, slow_sync.build())


async def test_a_second_concurrent_run_is_refused(store: CoreContainer, engine: SyncEngine) -> None:
    remote = seeded(40, page_size=10)
    remote.page_delay = 0.2
    first = asyncio.create_task(engine.run(remote.exchange(), remote.manual()))
    try:
        deadline = time.monotonic() + 60
        while True:
            async with store.session_factory()() as session:
                holder = await session.scalar(select(SyncLeaseRow.run_id))
            if holder is not None:
                break
            assert not first.done() and time.monotonic() < deadline, "the run never took the lease"
            await asyncio.sleep(0.02)
        other = seeded(1)
        with pytest.raises(SyncLockedError, match=rf"already running: run {holder}\b") as info:
            await make_engine(store).run(other.exchange(), other.manual())
        assert info.value.run_id == holder
    finally:
        result = await first
    assert result.status is SyncStatus.SUCCEEDED and result.run_id == holder
    assert await count(store, SyncRunRow) == 1  # the refused start left no run behind


async def test_a_live_lease_elsewhere_is_respected_and_a_dead_one_taken_over(
    store: CoreContainer, engine: SyncEngine
) -> None:
    old = await hold_lease(store, "another-host:4242")
    remote = seeded(3)
    with pytest.raises(SyncLockedError, match=rf"run {old} \(another-host:4242"):
        await engine.run(remote.exchange(), remote.manual())

    # Its heartbeat stops: after the lease timeout the lease is free.
    async with store.session_factory().begin() as session:
        lease = await session.get(SyncLeaseRow, "memory")
        assert lease is not None
        lease.heartbeat_at = utcnow() - timedelta(minutes=5)
    result = await engine.run(remote.exchange(), remote.manual())
    assert result.status is SyncStatus.SUCCEEDED
    abandoned = await store.sync_run_service().get(old)
    assert abandoned.status is SyncStatus.FAILED and "abandoned" in (abandoned.error or "")


async def test_dry_run_writes_nothing(store: CoreContainer, engine: SyncEngine) -> None:
    remote = seeded(30, page_size=7)
    await engine.run(remote.exchange(), remote.manual(), SyncOptions(pull_only=True))
    contacts = store.contact_service()
    await contacts.create("local@example.com", first_name="Lo")
    first = await contacts.get_by_email("user0@example.com")
    await contacts.update(first.id, {"first_name": "Changed here"})
    remote.update("p5", {"lastName": "Changed there"})
    remote.add({"emailAddress": "fresh@example.com"})
    remote.add({"emailAddress": "FRESH@example.com", "firstName": "Twin"})
    remote.add({"emailAddress": "broken"})

    before, state = await row_counts(store), await snapshot(store)
    orders = len(remote.orders)
    dry = await engine.run(remote.exchange(), remote.manual(), SyncOptions(dry_run=True))
    assert dry.dry_run and dry.run_id is None and dry.status is SyncStatus.PARTIAL
    assert await row_counts(store) == before
    assert await snapshot(store) == state
    assert len(remote.orders) == orders  # nothing sent either

    real = await engine.run(remote.exchange(), remote.manual())
    # Every counter agrees; the dry run only did not call the remote to push.
    assert replace(dry.counters, api_calls=0) == replace(real.counters, api_calls=0)
    assert (real.counters.created, real.counters.updated, real.counters.pushed) == (1, 2, 2)


async def test_a_dry_run_over_many_pages_counts_what_the_real_run_then_does(
    store: CoreContainer, engine: SyncEngine
) -> None:
    # Later pages meet contacts earlier pages create (the same email again, another case):
    # the dry run must see what it would have created, though it writes nothing.
    remote = seeded(23, page_size=5)
    remote.add({"emailAddress": "USER2@example.com", "firstName": "Again"})
    remote.add({"emailAddress": "user21@example.com", "lastName": "Twice"})
    remote.add({"emailAddress": "no-email-here"})
    await store.contact_service().create("local@example.com", first_name="Only here")
    before, state = await row_counts(store), await snapshot(store)

    dry = await engine.run(remote.exchange(), remote.manual(), SyncOptions(dry_run=True))
    assert (dry.run_id, dry.dry_run) == (None, True)
    assert await row_counts(store) == before  # no contact, mapping, cursor, run or error row
    assert await snapshot(store) == state
    assert remote.orders == []

    real = await engine.run(remote.exchange(), remote.manual())
    assert real.status is dry.status is SyncStatus.PARTIAL
    assert replace(dry.counters, api_calls=0) == replace(real.counters, api_calls=0)
    assert (real.counters.pulled, real.counters.created, real.counters.failed) == (26, 23, 1)
    assert [(f.direction, f.integration_id) for f in dry.failures] == [
        (f.direction, f.integration_id) for f in real.failures
    ]


async def test_begin_hands_the_run_back_before_it_runs(
    store: CoreContainer, engine: SyncEngine
) -> None:
    remote = seeded(3)
    started = await engine.begin(remote.exchange(), remote.manual())
    assert started.run_id is not None
    run = await store.sync_run_service().get(started.run_id)
    assert (run.status, run.counters.pulled) == (SyncStatus.RUNNING, 0)
    result = await started.execute()
    assert (result.run_id, result.status) == (started.run_id, SyncStatus.SUCCEEDED)
    assert (await store.sync_run_service().get(started.run_id)).counters.created == 3
    with pytest.raises(SyncRunError, match="executed already"):
        await started.execute()

    dry = await engine.begin(remote.exchange(), remote.manual(), SyncOptions(dry_run=True))
    assert dry.run_id is None
    assert (await dry.execute()).dry_run


async def test_cancel_stops_after_the_current_page(
    store: CoreContainer, engine: SyncEngine
) -> None:
    remote = seeded(100, page_size=10)
    exchange = remote.exchange()
    report, resume = exchange.report, asyncio.Event()

    async def gated(request):  # the remote holds its third page until the test says so
        served = 0
        async for page in report(request):
            if served == 2:
                await resume.wait()
            served += 1
            yield page

    exchange.report = gated
    task = asyncio.create_task(engine.run(exchange, remote.manual()))
    runs = store.sync_run_service()
    deadline = time.monotonic() + 60
    while True:
        async with store.session_factory()() as session:
            row = await session.scalar(select(SyncRunRow))
        if row is not None and row.pulled >= 20:
            break
        assert not task.done() and time.monotonic() < deadline, "the run never pulled 20"
        await asyncio.sleep(0.01)
    await runs.cancel(row.id)
    # The run hears of the cancel through its heartbeat: three beats after the cancel was
    # stored, the second one read it and its coroutine has gone on to the third.
    beats: set[object] = set()
    while len(beats) < 4:
        async with store.session_factory()() as session:
            beats.add(await session.scalar(select(SyncLeaseRow.heartbeat_at)))
        assert not task.done() and time.monotonic() < deadline, "no heartbeat after the cancel"
        await asyncio.sleep(0.01)
    resume.set()
    result = await task
    assert result.status is SyncStatus.CANCELLED
    done = await store.contact_service().count()
    assert done == 20
    assert await runs.cursor("memory", "people") == str(done)
    assert (await runs.get(row.id)).status is SyncStatus.CANCELLED
    with pytest.raises(ConflictError, match="not running"):
        await runs.cancel(row.id)


async def test_runs_and_status(store: CoreContainer, engine: SyncEngine) -> None:
    remote = seeded(4)
    remote.add({"emailAddress": "bad"})
    await engine.run(remote.exchange(), remote.manual(), trigger="schedule")
    runs = store.sync_run_service()
    (status,) = await runs.status()
    assert status.integration == "memory" and status.running_run_id is None
    assert status.last_run is not None and status.last_run.status is SyncStatus.PARTIAL
    assert status.last_run.trigger == "schedule"
    assert (status.cursors, status.mapped, status.unresolved_errors) == ({"people": "5"}, 4, 1)
    assert [r.id for r in await runs.runs("memory", status="partial")] == [status.last_run.id]
    doc = status.to_dict()
    assert doc["last_run"]["created"] == 4 and doc["last_run"]["failed"] == 1


async def test_heartbeat_and_a_lost_lease(store: CoreContainer) -> None:
    engine = make_engine(store, heartbeat_interval=0.02)
    remote = seeded(60, page_size=10)
    remote.page_delay = 0.15
    task = asyncio.create_task(engine.run(remote.exchange(), remote.manual()))
    beats: set[object] = set()
    deadline = time.monotonic() + 60
    while len(beats) < 3:
        async with store.session_factory()() as session:
            lease = await session.get(SyncLeaseRow, "memory")
            if lease is not None and lease.run_id is not None:
                beats.add(lease.heartbeat_at)
        assert not task.done() and time.monotonic() < deadline, "no three heartbeats"
        await asyncio.sleep(0.01)
    # Another process decided this run was dead and took the lease over: the run stops
    # rather than write beside the new holder.
    taker = await hold_lease(store, "elsewhere:1")
    result = await task
    assert result.status is SyncStatus.FAILED
    assert f"lost its lease to run {taker} (elsewhere:1)" in (result.error or "")
    assert await store.contact_service().count() < 60
