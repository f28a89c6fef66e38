"""The ``leadbridge`` CLI run in-process, for the CLI tests of every package."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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
