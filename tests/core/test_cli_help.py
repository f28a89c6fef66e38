"""Every command's ``--help`` reads like gh's or stripe's: plain value names, whole sentences."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from leadbridge.cli import _load_plugins, app

_load_plugins()


def _walk(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in (getattr(command, "commands", None) or {}).items():
        yield from _walk(sub, (*path, name))


COMMANDS = dict(_walk(typer.main.get_command(app)))


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("path", list(COMMANDS), ids=lambda p: " ".join(p) or "leadbridge")
def test_help_page(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    page = result.stdout
    usage = next(line for line in page.splitlines() if line.startswith("Usage: "))
    assert usage.startswith("Usage: leadbridge " + " ".join(path))
    assert "{" not in usage and "<" not in usage
    # Value names, never Python types.
    assert not re.search(r"<(bool|str|int|float|list\[.*?\]|path|file|int range)>", page), page
    command = COMMANDS[path]
    # The description is whole: every paragraph of the docstring, reflowed, nothing cut off.
    for paragraph in inspect.cleandoc(command.help or "").split("\n\n"):
        assert _flat(paragraph) in _flat(page)
    for param in command.params:
        if param.param_type_name == "option" and not param.hidden:
            assert param.help, f"{param.opts[0]} of `{' '.join(path)}` has no help text"
            assert _flat(param.help) in _flat(page)
    # A group lists each sub-command with its whole first paragraph.
    for name, sub in (getattr(command, "commands", None) or {}).items():
        first = _flat(inspect.cleandoc(sub.help or "").split("\n\n")[0])
        assert re.search(rf"^  {re.escape(name)}\s", page, re.MULTILINE)
        assert first in _flat(page), f"{name}: {first!r} is cut"


def test_short_help_flag_and_completion_are_on() -> None:
    page = CliRunner().invoke(app, ["-h"]).stdout
    assert "--install-completion" in page and "--show-completion" in page
    # What bash's completion function asks: the words so far, the one being completed.
    completed = CliRunner().invoke(
        app,
        [],
        env={
            "_LEADBRIDGE_COMPLETE": "complete_bash",
            "COMP_WORDS": "leadbridge contacts ex",
            "COMP_CWORD": "2",
        },
        prog_name="leadbridge",
    )
    assert completed.exit_code == 0 and completed.stdout.split() == ["export"]
