from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from leadbridge.http import RetryPolicy
from leadbridge.jobs import JobQueue, JobStatus
from leadbridge_livestorm import WEBHOOK_JOB, LivestormClient
from leadbridge_livestorm.testing import FakeLivestorm, Workspace, generate_workspace


@pytest.fixture
def workspace() -> Workspace:
    """2 events x 2 sessions, 240 people: two pages of 50 per session or more."""
    return generate_workspace(seed=3, events=2, sessions_per_event=2, people=240)


@pytest.fixture
def fake(workspace: Workspace) -> Iterator[FakeLivestorm]:
    """A fake Livestorm of the test's own (burst limit off, jobs end almost at once)."""
    with FakeLivestorm(workspace, rate_limit=None, job_delay=0.01) as server:
        yield server


@pytest.fixture
def small_fake() -> Iterator[FakeLivestorm]:
    """A fake Livestorm with 1 session of 20 people: a whole sync in a few calls."""
    workspace = generate_workspace(seed=7, events=1, sessions_per_event=1, people=20)
    with FakeLivestorm(workspace, rate_limit=None, job_delay=0.01) as server:
        yield server


def make_client(fake: FakeLivestorm, **options: object) -> LivestormClient:
    settings: dict[str, object] = {
        "api_token": fake.token,
        "base_url": fake.base_url,
        "requests_per_second": None,
        "retries": RetryPolicy(retries=3, backoff=0.01),
        "job_poll_interval": 0.01,
    }
    settings.update(options)
    return LivestormClient(**settings)  # type: ignore[arg-type]


@pytest_asyncio.fixture
async def livestorm(fake: FakeLivestorm) -> AsyncIterator[LivestormClient]:
    client = make_client(fake)
    try:
        yield client
    finally:
        await client.aclose()


#: A job in these is still to run (a retry waits as ``todo``).
WAITING = (JobStatus.TODO, JobStatus.DOING)


async def run_queued_webhooks(queue: JobQueue) -> None:
    """PostgreSQL: a worker in this process runs the queued webhook jobs until none is left
    (retries included). Nothing on SQLite, where deliveries are applied in the request."""
    if not queue.available:
        return
    await queue.open()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    worker = asyncio.create_task(
        queue.run_worker(stop, concurrency=1, poll_interval=0.05, graceful_timeout=5)
    )
    try:
        deadline = loop.time() + 60
        # One statement per look: counting each status apart can miss a job that moves from
        # ``doing`` back to ``todo`` (a retry) between the two counts.
        while any(job.status in WAITING for job in await queue.jobs(kind=WEBHOOK_JOB, limit=1000)):
            assert loop.time() < deadline, "the queued webhook jobs did not finish in 60 s"
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await worker
