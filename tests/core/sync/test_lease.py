"""The lease's holders: told apart by instance id, not host:pid; a lost lease says so plainly."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from leadbridge import CoreContainer, db
from leadbridge.db import utcnow
from leadbridge.sync import SyncEngine, SyncLeaseRow, SyncLockedError, SyncStatus
from leadbridge.sync._holder import LeaseHolder

from . import slow_sync
from .conftest import hold_lease, make_engine, seeded


def _dead_pid() -> int:
    """The pid of a process of this machine that has exited (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait(timeout=60)
    return process.pid


async def test_a_container_sharing_our_host_name_keeps_its_live_lease(
    store: CoreContainer, engine: SyncEngine
) -> None:
    # Same host name, a pid that is no process here: another container's live run.
    holder = f"{socket.gethostname()}:{_dead_pid()}"
    held = await hold_lease(
        store, holder, instance_id="a" * 32, scope="another-boot pid:[4026531836]"
    )
    remote = seeded(3)
    with pytest.raises(SyncLockedError, match=rf"run {held} \({holder}"):
        await engine.run(remote.exchange(), remote.manual())
    status = (await store.sync_run_service().status("memory"))[0]
    assert (status.running_run_id, status.to_dict()["holder"]) == (held, holder)


async def test_a_gone_process_of_our_scope_is_taken_over_at_once(
    store: CoreContainer, engine: SyncEngine
) -> None:
    holder = f"{socket.gethostname()}:{_dead_pid()}"
    held = await hold_lease(store, holder, instance_id="b" * 32, scope=LeaseHolder.here().scope)
    remote = seeded(3)
    result = await engine.run(remote.exchange(), remote.manual())
    assert result.status is SyncStatus.SUCCEEDED
    abandoned = await store.sync_run_service().get(held)
    assert abandoned.status is SyncStatus.FAILED and "abandoned" in (abandoned.error or "")


async def test_a_lease_from_before_instance_ids_waits_for_its_timeout(
    store: CoreContainer, engine: SyncEngine
) -> None:
    holder = f"{socket.gethostname()}:{_dead_pid()}"
    held = await hold_lease(store, holder)
    remote = seeded(3)
    with pytest.raises(SyncLockedError):
        await engine.run(remote.exchange(), remote.manual())
    async with store.session_factory().begin() as session:
        lease = await session.get(SyncLeaseRow, "memory")
        assert lease is not None
        lease.heartbeat_at = utcnow() - timedelta(minutes=5)
    assert (await engine.run(remote.exchange(), remote.manual())).status is SyncStatus.SUCCEEDED
    assert (await store.sync_run_service().get(held)).status is SyncStatus.FAILED


async def test_a_paused_process_that_lost_its_lease_says_so_in_one_line(
    store: CoreContainer, tmp_path: Path
) -> None:
    proc = await slow_sync.start(store, tmp_path)
    try:
        paused = await slow_sync.wait_until_pulled(store, proc, slow_sync.PAGE)
        proc.send_signal(signal.SIGSTOP)
        status = (await store.sync_run_service().status("memory"))[0]
        assert status.to_dict()["holder"] == f"{socket.gethostname()}:{proc.pid}"
        # Paused past the lease timeout: its heartbeat is old, another run takes over.
        async with store.session_factory().begin() as session:
            lease = await session.get(SyncLeaseRow, "memory")
            assert lease is not None
            lease.heartbeat_at = utcnow() - timedelta(minutes=5)
        remote = slow_sync.build()
        taker = await make_engine(store).run(remote.exchange(), remote.manual())
        assert taker.status is SyncStatus.SUCCEEDED
    finally:
        proc.send_signal(signal.SIGCONT)
        _, err = await asyncio.wait_for(proc.communicate(), 60)
    stderr = err.decode()
    assert proc.returncode == 1, stderr
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if "lost its lease" in line]
    assert len(lines) == 1, stderr
    assert f"run {paused.id} of memory lost its lease to run {taker.run_id}" in lines[0]
    assert "resumes from the last committed page" in lines[0]
    # Nothing written after the takeover: the store holds exactly the taker's full sync.
    assert await store.contact_service().count() == slow_sync.TOTAL


async def test_the_migration_keeps_leases_and_runs_of_the_previous_head(
    fresh_database_url: str,
) -> None:
    engine = db.create_engine(fresh_database_url)
    try:
        await db.upgrade(engine, revision="sync_0002")
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO sync_runs (integration, trigger, options, status, started_at,"
                    " heartbeat_at, holder, cancel_requested, pulled, created, updated,"
                    " unchanged, conflicts, pushed, failed, skipped, api_calls)"
                    " VALUES ('memory', 'cli', '{}', 'running', :now, :now, 'old-host:7',"
                    " false, 5, 5, 0, 0, 0, 0, 0, 0, 1)"
                ),
                {"now": utcnow()},
            )
            await conn.execute(
                text(
                    "INSERT INTO sync_leases (integration, run_id, holder, acquired_at,"
                    " heartbeat_at) VALUES ('memory', 1, 'old-host:7', :now, :now)"
                ),
                {"now": utcnow()},
            )
        await db.upgrade(engine)
        async with engine.connect() as conn:
            lease = (
                await conn.execute(
                    text(
                        "SELECT run_id, holder, instance_id, process_scope FROM sync_leases"
                        " WHERE integration = 'memory'"
                    )
                )
            ).one()
            run = (await conn.execute(text("SELECT holder, pulled FROM sync_runs"))).one()
        assert tuple(lease) == (1, "old-host:7", None, None)
        assert tuple(run) == ("old-host:7", 5)
        await db.downgrade(engine, revision="sync_0002")
        async with engine.connect() as conn:
            kept = (await conn.execute(text("SELECT run_id, holder FROM sync_leases"))).one()
        assert tuple(kept) == (1, "old-host:7")
    finally:
        await engine.dispose()
