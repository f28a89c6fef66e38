"""The ``leadbridge`` CLI run in-process, for the CLI tests of every package."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadbridge.cli import app
from leadbridge.cli._common import state


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


Cli = Callable[..., Result]


def in_process_cli() -> Cli:
    """``run(*args, ok=True, input=None)``: each call builds a fresh container, as a new
    ``leadbridge`` process would; ``ok`` asserts exit status 0 (showing stderr)."""
    runner = CliRunner()

    def run(*args: str, ok: bool = True, input: str | None = None) -> Result:
        state.container = None
        res = runner.invoke(app, list(args), input=input)
        if res.exception is not None and not isinstance(res.exception, SystemExit):
            raise res.exception
        out = Result(res.exit_code, res.stdout, res.stderr)
        if ok:
            assert out.returncode == 0, out.stderr
        return out

    return run


@pytest.fixture
def cli(fresh_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    """The CLI in-process (fast) on a fresh, migrated database (import it into a conftest or
    a test module to use it)."""
    monkeypatch.setenv("LEADBRIDGE_DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("LEADBRIDGE_DATA_DIR", str(tmp_path))
    run = in_process_cli()
    run("db", "upgrade")
    yield run
    state.container = None
