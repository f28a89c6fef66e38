"""Every `leadbridge …` command shown in a README exists (`--help` succeeds)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from leadbridge.cli import _load_plugins, app

ROOT = Path(__file__).resolve().parents[2]
READMES = [ROOT / "README.md", *sorted((ROOT / "packages").glob("*/README.md"))]
WORD = re.compile(r"^[a-z][a-z-]*$")


def _commands() -> list[tuple[str, ...]]:
    found: set[tuple[str, ...]] = set()
    for readme in READMES:
        for line in readme.read_text().splitlines():
            if line.lstrip().startswith(("from ", "import ")) or "acme" in line:
                continue  # Python imports, and the plugin guide's hypothetical `acme` plugin
            for match in re.finditer(r"(?:^|[`\s])leadbridge ((?:[a-z][a-z-]* ?)+)", line):
                words = tuple(w for w in match.group(1).split() if WORD.match(w))
                # the command path: words until the first argument placeholder or option
                path = []
                for w in words:
                    if w.isupper() or w.startswith("-"):
                        break
                    path.append(w)
                if path:
                    found.add(tuple(path[:3]))
    return sorted(found)


@pytest.mark.parametrize("words", _commands(), ids=" ".join)
def test_readme_command_exists(words: tuple[str, ...]) -> None:
    _load_plugins()
    # Walk the command tree: inside a group the next word must be one of its commands; once a
    # command is reached, the remaining words are its arguments (`sync run livestorm`).
    node = typer.main.get_command(app)
    path: list[str] = []
    for word in words:
        if not isinstance(getattr(node, "commands", None), dict):
            break
        child = node.commands.get(word)  # type: ignore[attr-defined]
        assert child is not None, f"`leadbridge {' '.join([*path, word])}` is not a command"
        node, path = child, [*path, word]
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output, result.output
