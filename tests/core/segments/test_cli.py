from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests._cli import Cli


def test_segments_end_to_end(cli: Cli, tmp_path: Path) -> None:
    cli("fields", "add", "score", "--type", "number")
    for email, city, score in (
        ("ann@x.io", "Lyon", 80),
        ("bob@x.io", "Lyon", 10),
        ("cy@y.io", "Nice", 90),
    ):
        cli("contacts", "add", email, "--city", city, "--field", f"score={score}")

    filters = [
        {"field": "city", "operator": "=", "value": "lyon"},
        {"field": "score", "operator": "gt", "value": 50},
        {"glue": "or", "field": "email", "operator": "endsWith", "value": "@y.io"},
    ]
    created = json.loads(
        cli(
            "segments",
            "create",
            "--name",
            "Hot leads",
            "--filters-json",
            json.dumps(filters),
            "--json",
        ).stdout
    )
    assert created["alias"] == "hot-leads" and created["member_count"] == 0
    assert created["filters"][2] == {
        "glue": "or",
        "field": "email",
        "operator": "endsWith",
        "value": "@y.io",
    }

    rebuilt = json.loads(cli("segments", "rebuild", "hot-leads", "--json").stdout)
    assert {k: rebuilt[k] for k in ("alias", "added", "removed", "total")} == {
        "alias": "hot-leads",
        "added": 2,
        "removed": 0,
        "total": 2,
    }
    members = json.loads(cli("contacts", "list", "--segment", "hot-leads", "--json").stdout)
    members = members["items"]
    assert [m["email"] for m in members] == ["ann@x.io", "cy@y.io"]

    assert json.loads(cli("segments", "add", "hot-leads", "bob@x.io", "--json").stdout) == {
        "alias": "hot-leads",
        "added": 1,
    }
    cli("segments", "remove", "hot-leads", "cy@y.io")
    all_ = json.loads(cli("segments", "rebuild", "--all", "--json").stdout)["items"]
    assert [(r["alias"], r["total"]) for r in all_] == [("hot-leads", 2)]

    shown = json.loads(cli("segments", "show", "hot-leads", "--json").stdout)
    assert shown["member_count"] == 2 and shown["last_built_at"] is not None
    listed = json.loads(cli("segments", "list", "--json").stdout)["items"]
    assert [s["alias"] for s in listed] == ["hot-leads"]
    assert "hot-leads" in cli("segments", "list").stdout
    assert "endsWith" in cli("segments", "show", "hot-leads").stdout

    spec = tmp_path / "filters.json"
    spec.write_text(json.dumps([{"field": "segment", "operator": "in", "value": ["hot-leads"]}]))
    cli(
        "segments",
        "create",
        "--name",
        "Derived",
        "--alias",
        "derived",
        "--filters-json",
        f"@{spec}",
    )
    loop = cli(
        "segments", "update", "hot-leads", "--filters-json",
        '[{"field": "segment", "operator": "in", "value": ["derived"]}]', ok=False,
    )  # fmt: skip
    assert loop.returncode == 1 and "hot-leads → derived → hot-leads" in loop.stderr
    order = json.loads(cli("segments", "rebuild", "--all", "--json").stdout)["items"]
    assert [r["alias"] for r in order] == ["hot-leads", "derived"]
    updated = json.loads(
        cli("segments", "update", "derived", "--name", "D2", "--unpublish", "--json").stdout
    )
    assert updated["name"] == "D2" and updated["is_published"] is False

    fields = json.loads(cli("segments", "fields", "--json").stdout)["items"]
    score = next(f for f in fields if f["key"] == "score")
    assert score["type"] == "number" and "between" in score["operators"]

    refused = cli("segments", "delete", "hot-leads", ok=False)
    assert refused.returncode == 1 and "derived" in refused.stderr
    cli("segments", "delete", "derived")
    cli("segments", "delete", "hot-leads")
    assert json.loads(cli("segments", "list", "--json").stdout)["items"] == []


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("segments", "create", "--name", "X", "--filters-json", "[{"), ["not valid JSON"]),
        (("segments", "create", "--name", "X", "--filters-json", "{}"), ["must be a JSON list"]),
        (
            (
                "segments",
                "create",
                "--name",
                "X",
                "--filters-json",
                '[{"field": "shoe", "operator": "=", "value": 1}]',
            ),
            ["filters[0]", "unknown field 'shoe'"],
        ),
        (("segments", "show", "nope"), ["segment 'nope' does not exist"]),
        (("segments", "rebuild", "nope"), ["segment 'nope' does not exist"]),
        (("segments", "add", "nope", "ghost@x.io"), ["ghost@x.io"]),
    ],
)
def test_errors_are_one_line_and_exit_1(cli: Cli, args: tuple[str, ...], words: list[str]) -> None:
    result = cli(*args, ok=False)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and result.stdout == ""
    for word in words:
        assert word in result.stderr


def test_rebuild_needs_an_alias_or_all(cli: Cli) -> None:
    assert cli("segments", "rebuild", ok=False).returncode == 2
    assert cli("segments", "rebuild", "x", "--all", ok=False).returncode == 2
