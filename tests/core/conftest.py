from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from leadbridge.cli._common import state
from tests._cli import Cli, in_process_cli


@pytest.fixture
def cli(fresh_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    """The CLI in-process (fast) on a fresh, migrated database."""
    monkeypatch.setenv("LEADBRIDGE_DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("LEADBRIDGE_DATA_DIR", str(tmp_path))
    run = in_process_cli()
    run("db", "upgrade")
    yield run
    state.container = None
