from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests._cli import Cli, in_process_cli


def test_contacts_end_to_end(cli: Cli, tmp_path: Path) -> None:
    cli("fields", "add", "plan", "--type", "select", "--options", "free,pro")
    fields = json.loads(cli("fields", "list", "--json").stdout)["items"]
    assert {"alias": "plan", "type": "select", "options": ["free", "pro"]}.items() <= next(
        f for f in fields if f["alias"] == "plan"
    ).items()

    added = json.loads(
        cli(
            "contacts", "add", "Ann@x.io", "--first-name", "Ann", "--field", "plan=pro", "--json"
        ).stdout
    )
    assert added["email"] == "Ann@x.io" and added["fields"] == {"plan": "pro"}

    dup = cli("contacts", "add", "ann@X.io", ok=False)
    assert dup.returncode == 1
    assert "already exists" in dup.stderr and "Traceback" not in dup.stderr

    bad = cli("contacts", "add", "b@x.io", "--field", "plan=gold", ok=False)
    assert bad.returncode == 1 and "plan" in bad.stderr and "gold" in bad.stderr

    csv_in = tmp_path / "in.csv"
    csv_in.write_text("email,first_name,plan,tags\nb@x.io,Bob,free,lead\nANN@x.io,,free,\n")
    summary = json.loads(cli("contacts", "import", str(csv_in), "--json").stdout)
    assert summary == {"rows": 2, "created": 1, "updated": 1, "unchanged": 0, "batches": 1}

    shown = json.loads(cli("contacts", "show", "ann@x.io", "--json").stdout)
    assert shown["first_name"] == "Ann"  # a blank cell keeps the stored value
    assert shown["fields"]["plan"] == "free"

    listed = json.loads(cli("contacts", "list", "--tag", "lead", "--json").stdout)["items"]
    assert [c["email"] for c in listed] == ["b@x.io"]

    out = tmp_path / "out.csv"
    cli("contacts", "export", str(out))
    lines = out.read_text().splitlines()
    assert lines[0] == "email,first_name,last_name,company,phone,city,country,plan,tags"
    assert len(lines) == 3

    current = json.loads(cli("db", "current", "--json").stdout)["items"]
    assert any(b["branch"] == "core" and b["up_to_date"] for b in current)


def test_import_refuses_unknown_column_before_writing(cli: Cli, tmp_path: Path) -> None:
    csv_in = tmp_path / "in.csv"
    csv_in.write_text("email,shoe_size\na@x.io,42\n")
    proc = cli("contacts", "import", str(csv_in), ok=False)
    assert proc.returncode == 1 and "shoe_size" in proc.stderr
    assert json.loads(cli("contacts", "list", "--json").stdout)["items"] == []


def test_import_bad_row_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    csv_in = tmp_path / "in.csv"
    csv_in.write_text("email\na@x.io\nnot-an-email\n")
    proc = cli("contacts", "import", str(csv_in), ok=False)
    assert proc.returncode == 1 and "line 3" in proc.stderr and "not-an-email" in proc.stderr
    assert json.loads(cli("contacts", "list", "--json").stdout)["items"] == []


def test_usage_error_exits_2(cli: Cli) -> None:
    proc = cli("contacts", "list", "--limit", "0", ok=False)
    assert proc.returncode == 2


def test_real_process_json_and_errors(fresh_database_url: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "LEADBRIDGE_DATABASE_URL": fresh_database_url,
        "LEADBRIDGE_DATA_DIR": str(tmp_path),
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "leadbridge", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert run("db", "upgrade").returncode == 0
    added = run("contacts", "add", "a@x.io", "--json")
    assert json.loads(added.stdout)["email"] == "a@x.io"
    missing = run("contacts", "show", "nobody@x.io")
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == ["error: no contact with email 'nobody@x.io'"]
    assert run("contacts", "frobnicate").returncode == 2


def test_db_upgrade_says_what_it_applied(
    fresh_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADBRIDGE_DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("LEADBRIDGE_DATA_DIR", str(tmp_path))
    run = in_process_cli()
    first = run("db", "upgrade").stdout
    assert first.startswith("applied ") and "core: empty → core_" in first
    again = run("db", "upgrade", "--json")
    assert json.loads(again.stdout) == {"applied": []}
    assert "nothing to apply" in run("db", "upgrade").stdout


def test_contacts_show_prints_tags_as_text(cli: Cli) -> None:
    cli("contacts", "add", "a@x.io", "--tag", "vip", "--tag", "lead")
    shown = cli("contacts", "show", "a@x.io").stdout
    assert "lead, vip" in shown and "[" not in shown
