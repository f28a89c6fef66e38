"""The Livestorm pull tells the progress bar how many people to expect (``meta.record_count``)."""

from __future__ import annotations

import pytest

from leadbridge.container import CoreContainer
from leadbridge.sync import SyncOptions, SyncProgress, SyncStatus
from leadbridge_livestorm.testing import FakeLivestorm, Workspace, generate_workspace

from .test_sync import configure, fake

__all__ = ["fake"]  # a fixture


@pytest.fixture
def workspace() -> Workspace:
    # Enough people for several report pages of 500.
    return generate_workspace(seed=5, events=2, sessions_per_event=2, people=1_200)


async def test_progress_has_a_total_that_ends_at_what_was_done(
    container: CoreContainer, fake: FakeLivestorm
) -> None:
    await configure(container, fake)
    seen: list[SyncProgress] = []
    result = await container.sync_service().start(
        "livestorm", SyncOptions(pull_only=True), progress=seen.append
    )
    assert result.status is SyncStatus.SUCCEEDED
    pulls = [p for p in seen if p.phase == "pull"]
    assert len(pulls) >= 2
    assert all(p.total is not None and p.total >= p.done for p in pulls)
    # Known from the first page on, exact once everything is read.
    assert pulls[0].total is not None and pulls[0].total > pulls[0].done
    assert pulls[-1].total == pulls[-1].done == result.counters.pulled
