"""Worker processes for the job tests: ``worker_process.py`` run as ``leadbridge worker``;
waiting for what they do, and scraping their ``/metrics``."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import text

from leadbridge import CoreContainer
from leadbridge.jobs import JobQueue
from leadbridge.settings import Settings
from leadbridge.testing import define_memory_fields
from tests._metrics import Samples, parse_metrics

WORKER = Path(__file__).with_name("worker_process.py")
ROOT = Path(__file__).parents[3]


class Workers:
    """Starts worker processes; every one still alive is killed at the end."""

    def __init__(self, settings: Settings, tmp_path: Path) -> None:
        self.settings = settings
        self.tmp_path = tmp_path
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, *args: str, **env: str) -> subprocess.Popen[bytes]:
        with (self.tmp_path / f"worker{len(self.procs)}.log").open("wb") as log:
            proc = self._popen(args, env, log)
        self.procs.append(proc)
        return proc

    def _popen(self, args: tuple[str, ...], env: dict[str, str], log: Any) -> Any:
        return subprocess.Popen(
            [sys.executable, str(WORKER), "--stalled-after", "2", "--poll", "0.3", *args],
            env={
                **os.environ,
                "PYTHONPATH": str(ROOT),
                "LEADBRIDGE_DATABASE_URL": self.settings.database_url,
                "LEADBRIDGE_DATA_DIR": str(self.tmp_path),
                "LEADBRIDGE_SECRET_KEY": self.settings.secret_key,
                **env,
            },
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def by_pid(self, pid: int) -> subprocess.Popen[bytes]:
        return next(p for p in self.procs if p.pid == pid)

    def logs(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.tmp_path.glob("worker*.log")))

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)


@pytest.fixture
def workers(settings: Settings, tmp_path: Path) -> Iterator[Workers]:
    started = Workers(settings, tmp_path)
    try:
        yield started
    finally:
        started.stop_all()


@pytest_asyncio.fixture
async def queue(container: CoreContainer) -> AsyncIterator[JobQueue]:
    await define_memory_fields(container.custom_field_service())
    async with container.job_queue() as opened:
        yield opened


async def wait_for(check: Callable[[], Awaitable[Any]], what: str, workers: Workers) -> Any:
    deadline = asyncio.get_running_loop().time() + 60.0
    while True:
        found = await check()
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}; workers said:\n{workers.logs()}")
        await asyncio.sleep(0.1)


async def idle(container: CoreContainer) -> bool:
    """No job waits or runs (the schedules' ticks included)."""
    async with container.session_factory()() as session:
        busy = await session.scalar(
            text("SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')")
        )
    return busy == 0


async def metrics_url(workers: Workers) -> str:
    """The URL a worker started with ``--metrics-port 0`` says it serves."""

    async def said() -> str | None:
        found = re.search(r"metrics on (http://\S+/metrics)", workers.logs())
        return found.group(1) if found else None

    url: str = await wait_for(said, "the worker to serve its metrics", workers)
    return url


async def scrape(url: str) -> Samples:
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.get(url)
    assert response.status_code == 200, response.text
    return parse_metrics(response.text)
