"""``leadbridge sync run memory`` over a slow in-memory integration, for the kill -9 test.

Run as a script: ``python slow_sync.py PAGE_DELAY`` (the database comes from
``LEADBRIDGE_DATABASE_URL``). :func:`build` is also what the test reruns in-process.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

from sqlalchemy import select

from leadbridge import CoreContainer
from leadbridge.sync import SyncRunRow
from leadbridge.testing import MemoryIntegration

TOTAL = 600
PAGE = 50


def build(page_delay: float = 0.0) -> MemoryIntegration:
    remote = MemoryIntegration(page_size=PAGE)
    for i in range(TOTAL):
        remote.add({"emailAddress": f"k{i}@example.com", "firstName": f"K{i}", "score": i})
    remote.page_delay = page_delay
    return remote


async def start(store: CoreContainer, data_dir: Path) -> asyncio.subprocess.Process:
    """This script in a child process, on ``store``'s database, 0.25 s a page."""
    env = {
        **os.environ,
        "LEADBRIDGE_DATABASE_URL": store.settings().database_url,
        "LEADBRIDGE_DATA_DIR": str(data_dir),
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "0.25",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def wait_until_pulled(
    store: CoreContainer, process: asyncio.subprocess.Process, pulled: int
) -> SyncRunRow:
    """The child's run once it pulled ``pulled`` objects (within 90 s)."""
    deadline = time.monotonic() + 90
    while True:
        async with store.session_factory()() as session:
            run = await session.scalar(select(SyncRunRow))
        if run is not None and run.pulled >= pulled:
            return run
        if process.returncode is not None:
            assert process.stderr is not None
            raise AssertionError((await process.stderr.read()).decode())
        assert time.monotonic() < deadline, "the CLI sync never got going"
        await asyncio.sleep(0.05)


if __name__ == "__main__":
    from leadbridge.cli import main
    from leadbridge.sync import SyncTarget, register_sync_target

    remote = build(page_delay=float(sys.argv[1]))
    register_sync_target("memory", lambda: SyncTarget(remote.exchange(), remote.manual()))
    sys.argv = ["leadbridge", "sync", "run", "memory", "--json"]
    main()
