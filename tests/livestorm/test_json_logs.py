"""A real sync against the fake Livestorm, logged as JSON lines: each carries its run."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from leadbridge.container import CoreContainer
from leadbridge.observability import JsonLogFormatter
from leadbridge.sync import SyncStatus
from leadbridge_livestorm.testing import FakeLivestorm
from tests.livestorm.test_sync import configure


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLogFormatter())
    logger = logging.getLogger("leadbridge")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def test_every_line_of_a_run_parses_and_names_its_run(
    container: CoreContainer, small_fake: FakeLivestorm, json_log: io.StringIO
) -> None:
    await configure(container, small_fake)
    small_fake.fail_next(1, 503)  # a retry, logged too
    result = await container.sync_service().start("livestorm")
    assert result.status == SyncStatus.SUCCEEDED, result.error
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    calls = [entry for entry in lines if entry["logger"] == "leadbridge.http"]
    assert len(calls) >= result.counters.api_calls  # each attempt, and the retry's wait
    for entry in calls:
        assert entry["run_id"] == result.run_id
        assert entry["integration"] == "livestorm"
        assert small_fake.token not in entry["message"]
    assert any("retrying" in entry["message"] for entry in calls)
