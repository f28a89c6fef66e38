from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from leadbridge_livestorm.testing import FakeLivestorm, Workspace, generate_workspace


@pytest.fixture(scope="module")
def small_workspace() -> Workspace:
    """3 events x 2 sessions, 60 people: read-only tests share it."""
    return generate_workspace(seed=11, events=3, sessions_per_event=2, people=60)


@pytest.fixture(scope="module")
def shared_fake(small_workspace: Workspace) -> Iterator[FakeLivestorm]:
    with FakeLivestorm(small_workspace, rate_limit=None) as fake:
        yield fake


@pytest.fixture
def fake(shared_fake: FakeLivestorm) -> FakeLivestorm:
    shared_fake.reset_calls()
    return shared_fake


@pytest.fixture
def fresh_fake() -> Iterator[FakeLivestorm]:
    """A fake of its own (burst limit off) for tests that change state or limits."""
    with FakeLivestorm(generate_workspace(seed=5, people=30), rate_limit=None) as fake:
        yield fake


def api(fake: FakeLivestorm) -> httpx.Client:
    return httpx.Client(base_url=fake.base_url, headers=fake.auth_headers, timeout=10)


@pytest.fixture
def client(fake: FakeLivestorm) -> Iterator[httpx.Client]:
    with api(fake) as http:
        yield http


@pytest.fixture
def fresh_client(fresh_fake: FakeLivestorm) -> Iterator[httpx.Client]:
    with api(fresh_fake) as http:
        yield http
