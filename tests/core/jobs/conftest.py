"""Worker processes for the job tests: ``worker_process.py`` run as ``leadbridge worker``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from leadbridge.settings import Settings

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
