"""``leadbridge worker`` on SQLite: one process, the embedded runner; a clean stop."""

from __future__ import annotations

import signal
import time

import pytest

from .conftest import Workers


def test_the_sqlite_worker_stops_on_sigterm_with_exit_0(workers: Workers, db_backend: str) -> None:
    if db_backend != "sqlite":
        pytest.skip("SQLite behaviour")
    worker = workers.start("--concurrency", "2")
    deadline = time.monotonic() + 60
    while "running due schedules in this process" not in workers.logs():
        assert worker.poll() is None, workers.logs()
        assert time.monotonic() < deadline, workers.logs()
        time.sleep(0.1)
    assert "--concurrency and --queue apply to PostgreSQL" in workers.logs()
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=30) == 0, workers.logs()
    assert "worker stopped" in workers.logs()
