"""Every list command of every installed package prints one shape with ``--json``:
``{"items": [...], "next_cursor": null | "…"}`` (the core README's "JSON output")."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import typer

from leadbridge.cli import _load_plugins, app
from leadbridge_livestorm.testing import FakeLivestorm, generate_workspace
from tests._cli import Cli, cli

__all__ = ["cli"]  # the fixture

_load_plugins()

#: List commands not named ``list``, with the arguments they need.
OTHER_LISTS: list[tuple[str, ...]] = [
    ("db", "current"),
    ("segments", "fields"),
    ("segments", "rebuild", "--all"),
    ("sync", "status", "livestorm", "--skipped"),
]


def _walk(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    if path and path[-1] == "list":
        yield path
    for name, sub in (getattr(command, "commands", None) or {}).items():
        yield from _walk(sub, (*path, name))


LISTS = [*_walk(typer.main.get_command(app)), *OTHER_LISTS]


@pytest.fixture
def livestorm(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLivestorm]:
    with FakeLivestorm(generate_workspace(seed=3, people=5), rate_limit=None) as fake:
        monkeypatch.setenv("LIVESTORM_API_TOKEN", fake.token)
        monkeypatch.setenv("LIVESTORM_BASE_URL", fake.base_url)
        yield fake


def test_the_walk_finds_core_and_plugin_lists() -> None:
    assert {("contacts", "list"), ("tokens", "list"), ("livestorm", "webhooks", "list")} <= set(
        LISTS
    )


@pytest.mark.parametrize("path", LISTS, ids=" ".join)
def test_list_command_json_shape(cli: Cli, livestorm: FakeLivestorm, path: tuple[str, ...]) -> None:
    out = cli(*path, "--json")
    doc = json.loads(out.stdout)
    assert set(doc) == {"items", "next_cursor"}, doc
    assert isinstance(doc["items"], list)
    assert doc["next_cursor"] is None or isinstance(doc["next_cursor"], str)
    for item in doc["items"]:
        assert isinstance(item, dict)
        assert all(key == key.lower() and " " not in key for key in item)


def test_next_cursor_pages_through_contacts(cli: Cli) -> None:
    for i in range(5):
        cli("contacts", "add", f"p{i}@x.io")
    seen: list[str] = []
    after: list[str] = []
    for _ in range(5):  # bounded: 5 contacts, 2 a page
        doc = json.loads(cli("contacts", "list", "--limit", "2", "--json", *after).stdout)
        seen += [c["email"] for c in doc["items"]]
        if doc["next_cursor"] is None:
            break
        after = ["--after", doc["next_cursor"]]
    assert seen == [f"p{i}@x.io" for i in range(5)]
    for cursor in ("nonsense", "-1", str(2**63)):
        bad = cli("contacts", "list", "--after", cursor, ok=False)
        assert bad.returncode == 1 and f"--after {cursor!r}" in bad.stderr
