"""The job queue's gauges when the database does not answer, and the metrics server's errors."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from leadbridge import ConfigurationError, CoreContainer, db
from leadbridge.jobs import JobQueue
from leadbridge.observability import MetricsServer
from tests._metrics import parse_metrics, sample


@pytest.fixture
def hanging_database_url() -> Iterator[str]:
    """A PostgreSQL URL whose server accepts connections and never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        port = listener.getsockname()[1]
        yield f"postgresql+asyncpg://leadbridge@127.0.0.1:{port}/leadbridge"


async def test_a_scrape_answers_while_the_database_hangs(
    container: CoreContainer, hanging_database_url: str
) -> None:
    engine = db.create_engine(hanging_database_url)
    queue = JobQueue(
        hanging_database_url,
        container.job_catalog(),
        container.schedule_service(),
        async_sessionmaker(engine),
    )
    server = MetricsServer("127.0.0.1", 0, job_queue=queue.snapshot)
    port = await server.start()
    try:
        # The server's thread reads the queue on this loop: wait for it elsewhere.
        response = await asyncio.to_thread(
            httpx.get, f"http://127.0.0.1:{port}/metrics", timeout=30
        )
    finally:
        server.close()
        await engine.dispose()
    assert response.status_code == 200
    samples = parse_metrics(response.text)
    assert sample(samples, "leadbridge_jobs_queue_up") == 0
    assert not any(name == "leadbridge_jobs_queued" for name, _ in samples)
    assert "leadbridge_sync_runs" in response.text  # the rest is there


async def test_a_port_in_use_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(ConfigurationError, match=f"cannot serve metrics on 127.0.0.1:{port}"):
            await MetricsServer("127.0.0.1", port).start()
