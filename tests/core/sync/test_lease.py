"""The lease's holders: told apart by instance id, not host:pid; a lost lease says so plainly."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from leadbridge import CoreContainer, db
from leadbridge.db import utcnow
from leadbridge.sync import SyncEngine, SyncLeaseRow, SyncLockedError, SyncRunRow, SyncStatus
from leadbridge.sync._holder import LeaseHolder

from . import slow_sync
from .conftest import make_engine, seeded


def _dead_pid() -> int:
    """The pid of a process of this machine that has exited (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait(timeout=60)
    return process.pid


async def _held_by(
    store: CoreContainer, holder: str, instance_id: str | None, scope: str | None
) -> int:
    """A running run and its lease, heartbeat fresh, as another process left them."""
    now = utcnow()
    async with store.session_factory().begin() as session:
        run = SyncRunRow(
            integration="memory",
            trigger="schedule",
            options={},
            status="running",
            started_at=now,
            heartbeat_at=now,
            holder=holder,
            cancel_requested=False,
        )
        session.add(run)
        await session.flush()
        session.add(
            SyncLeaseRow(
                integration="memory",
                run_id=run.id,
                holder=holder,
                instance_id=instance_id,
                process_scope=scope,
                acquired_at=now,
                heartbeat_at=now,
            )
        )
    return run.id


async def test_a_container_sharing_our_host_name_keeps_its_live_lease(
    store: CoreContainer, engine: SyncEngine
) -> None:
    # Same host name, a pid that is no process here: another container's live run.
    holder = f"{socket.gethostname()}:{_dead_pid()}"
    held = await _held_by(store, holder, "a" * 32, "another-boot pid:[4026531836]")
    remote = seeded(3)
    with pytest.raises(SyncLockedError, match=rf"run {held} \({holder}"):
        await engine.run(remote.exchange(), remote.manual())
    status = (await store.sync_run_service().status("memory"))[0]
    assert (status.running_run_id, status.to_dict()["holder"]) == (held, holder)


async def test_a_gone_process_of_our_scope_is_taken_over_at_once(
    store: CoreContainer, engine: SyncEngine
) -> None:
    holder = f"{socket.gethostname()}:{_dead_pid()}"
    held = await _held_by(store, holder, "b" * 32, LeaseHolder.here().scope)
    remote = seeded(3)
    result = await engine.run(remote.exchange(), remote.manual())
    assert result.status is SyncStatus.SUCCEEDED
    abandoned = await store.sync_run_service().get(held)
    assert abandoned.status is SyncStatus.FAILED and "abandoned" in (abandoned.error or "")


async def test_a_lease_from_before_instance_ids_waits_for_its_timeout(
    store: CoreContainer, engine: SyncEngine
) -> None:
    holder = f"{socket.gethostname()}:{_dead_pid()}"
    held = await _held_by(store, holder, None, None)
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
    env = {
        **os.environ,
        "LEADBRIDGE_DATABASE_URL": store.settings().database_url,
        "LEADBRIDGE_DATA_DIR": str(tmp_path),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(Path(slow_sync.__file__)),
        "0.25",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            async with store.session_factory()() as session:
                paused = await session.scalar(select(SyncRunRow))
            if paused is not None and paused.pulled >= slow_sync.PAGE:
                break
            if proc.returncode is not None:
                assert proc.stderr is not None
                pytest.fail((await proc.stderr.read()).decode())
            assert time.monotonic() < deadline, "the CLI sync never got going"
            await asyncio.sleep(0.05)
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
