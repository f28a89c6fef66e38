from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from leadbridge import db
from leadbridge.http import RetryPolicy
from leadbridge.testing._database import DatabaseUnavailableError, create_database, drop_database
from leadbridge_livestorm import MIGRATIONS, LivestormClient
from leadbridge_livestorm.testing import FakeLivestorm, Workspace, generate_workspace


@pytest.fixture(scope="session")
def database_url(db_backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Core's session database, with the Livestorm branch migrated too.

    (Once core's integration registry finds installed plugins' migrations by itself, this is
    what core's own fixture does; until then the plugin's tests add their branch here.)
    """
    directory: Path = tmp_path_factory.mktemp("livestorm-db")
    try:
        url = asyncio.run(create_database(db_backend, directory))
    except DatabaseUnavailableError as exc:
        pytest.skip(str(exc))

    async def migrate() -> None:
        engine = db.create_engine(url)
        try:
            await db.upgrade(engine, [MIGRATIONS])
        finally:
            await engine.dispose()

    try:
        asyncio.run(migrate())
        yield url
    finally:
        asyncio.run(drop_database(url))


@pytest.fixture
def workspace() -> Workspace:
    """2 events x 2 sessions, 240 people: two pages of 50 per session or more."""
    return generate_workspace(seed=3, events=2, sessions_per_event=2, people=240)


@pytest.fixture
def fake(workspace: Workspace) -> Iterator[FakeLivestorm]:
    """A fake Livestorm of the test's own (burst limit off, jobs end almost at once)."""
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
