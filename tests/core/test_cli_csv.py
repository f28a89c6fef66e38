"""``contacts import`` / ``contacts export``: hostile and malformed files, batches, formulas."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from leadbridge import CoreContainer
from leadbridge.cli import _contacts as contacts_cli
from leadbridge.contacts import ContactCsvImport, ContactImportPhase, neutralise_formula
from leadbridge.db import _engine as engine_module
from tests._cli import Cli


def _emails(cli: Cli) -> list[str]:
    return [c["email"] for c in json.loads(cli("contacts", "list", "--json").stdout)["items"]]


def _refused(cli: Cli, path: Path, *args: str) -> str:
    proc = cli("contacts", "import", str(path), *args, ok=False)
    assert proc.returncode == 1, proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert _emails(cli) == []
    return lines[0]


def test_latin1_file_is_one_line_naming_the_line_then_reads_with_encoding(
    cli: Cli, tmp_path: Path
) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes("email,first_name\na@x.io,Ann\nb@x.io,Zoë\n".encode("latin-1"))
    line = _refused(cli, path)
    assert "people.csv line 3" in line and "0xeb" in line and "--encoding" in line

    cli("contacts", "import", str(path), "--encoding", "latin-1")
    shown = json.loads(cli("contacts", "show", "b@x.io", "--json").stdout)
    assert shown["first_name"] == "Zoë"


def test_unknown_encoding_is_refused(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("email\na@x.io\n")
    assert "unknown encoding 'klingon'" in _refused(cli, path, "--encoding", "klingon")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("email,first_name,email\na@x.io,A,b@x.io\n", "line 1: column 'email' appears twice"),
        ("email,first_name\na@x.io,Ann\nb@x.io,Bob,extra\n", "line 3: 3 cells where the header"),
        (
            "email,first_name\nann@x.io,Ann\nbob@x.io,Bob\nANN@X.io,Annie\n",
            "line 4: email 'ann@x.io' already appears on line 2",
        ),
        ("email,first_name,\na@x.io,Ann,\n", "line 1: column 3 has no name"),
        ("", "the file is empty"),
    ],
    ids=["duplicated-header", "extra-cells", "same-email-twice", "unnamed-column", "empty"],
)
def test_malformed_files_are_refused_naming_the_line(
    cli: Cli, tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "in.csv"
    path.write_text(text)
    assert expected in _refused(cli, path)


def test_a_repeat_across_batches_and_a_late_bad_row_write_nothing(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    rows = [f"p{i}@x.io" for i in range(30)] + ["P3@X.IO", "not-an-email"]
    path.write_text("email\n" + "".join(f"{e}\n" for e in rows))
    line = _refused(cli, path, "--batch-size", "7")
    assert "line 32: email 'p3@x.io' already appears on line 5" in line
    assert "line 33:" in line and "not-an-email" in line and "nothing was written" in line


def test_check_validates_without_writing(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("email\na@x.io\nb@x.io\n")
    out = cli("contacts", "import", str(path), "--check", "--json")
    assert json.loads(out.stdout)["rows"] == 2
    assert _emails(cli) == []


def test_import_writes_in_batches_and_stays_all_or_nothing_for_validation(
    cli: Cli, tmp_path: Path
) -> None:
    path = tmp_path / "in.csv"
    path.write_text(
        "email,first_name,tags\n"
        + "".join(f"p{i}@x.io,P{i},{'vip' if i % 2 else ''}\n" for i in range(23))
    )
    summary = json.loads(cli("contacts", "import", str(path), "--batch-size", "5", "--json").stdout)
    assert summary == {"rows": 23, "created": 23, "updated": 0, "unchanged": 0, "batches": 5}
    again = json.loads(cli("contacts", "import", str(path), "--json").stdout)
    assert again["unchanged"] == 23 and again["created"] == 0
    vip = json.loads(cli("contacts", "list", "--tag", "vip", "--json", "--limit", "100").stdout)
    assert len(vip["items"]) == 11


def test_a_locked_database_is_a_retryable_one_line_error(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = os.environ["LEADBRIDGE_DATABASE_URL"]
    if not url.startswith("sqlite"):
        pytest.skip("SQLite's write lock")
    on_connect = engine_module._sqlite_on_connect

    def impatient(dbapi_connection: Any, record: Any) -> None:
        # The 30 s busy timeout, shortened so the test does not wait it out.
        on_connect(dbapi_connection, record)
        dbapi_connection.execute("PRAGMA busy_timeout=200")

    monkeypatch.setattr(engine_module, "_sqlite_on_connect", impatient)
    db_file = url.split("///", 1)[1]
    path = tmp_path / "in.csv"
    path.write_text("email\n" + "".join(f"p{i}@x.io\n" for i in range(12)))
    holder = sqlite3.connect(db_file, timeout=0)
    try:
        holder.execute("BEGIN IMMEDIATE")
        proc = cli("contacts", "import", str(path), "--batch-size", "5", ok=False)
    finally:
        holder.rollback()
        holder.close()
    assert proc.returncode == 75
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "database is busy" in lines[0] and "run the same import" in lines[0]
    cli("contacts", "import", str(path))
    assert len(_emails(cli)) == 12


def test_a_terminal_sees_a_bar_per_pass_and_json_stays_clean(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=120)
    monkeypatch.setattr(contacts_cli, "err_console", terminal)
    path = tmp_path / "people.csv"
    path.write_text("email,first_name\n" + "".join(f"p{i}@x.io,P{i}\n" for i in range(40)))
    cli("contacts", "import", str(path), "--batch-size", "10")
    shown = screen.getvalue()
    assert "checking people.csv" in shown and "writing people.csv" in shown
    assert "100%" in shown and "0:00:00" in shown  # done: nothing left to wait for

    screen.truncate(0)
    summary = json.loads(cli("contacts", "import", str(path), "--json").stdout)
    assert summary["unchanged"] == 40 and screen.getvalue() == ""


async def test_progress_counts_the_file_s_bytes_in_each_pass(
    container: CoreContainer, tmp_path: Path
) -> None:
    path = tmp_path / "people.csv"
    path.write_text("email,city\n" + "".join(f"person{i}@x.io,Lyon\n" for i in range(3000)))
    size = path.stat().st_size
    heard: list[tuple[ContactImportPhase, int, int]] = []

    def progress(phase: ContactImportPhase, done: int, total: int) -> None:
        heard.append((phase, done, total))

    importer = ContactCsvImport(
        container.contact_service(), container.read_session_factory(), batch_size=500
    )
    result = await importer.run(path, progress=progress)
    assert result.created == 3000
    for phase in ContactImportPhase:
        seen = [(done, total) for p, done, total in heard if p is phase]
        assert len(seen) > 2 and {total for _done, total in seen} == {size}
        assert [done for done, _t in seen] == sorted(done for done, _t in seen)
        assert seen[-1] == (size, size)
    assert [p for p, _d, _t in heard] == sorted(
        (p for p, _d, _t in heard), key=list(ContactImportPhase).index
    )


def test_export_neutralises_formulas_and_raw_keeps_them(cli: Cli, tmp_path: Path) -> None:
    hostile = '=HYPERLINK("http://evil.example","x")'
    cli("contacts", "add", "a@x.io", "--first-name", hostile, "--last-name", "@SUM(A1)")
    cli("contacts", "add", "b@x.io", "--first-name", "-2+3", "--company", "+Plus Corp")
    cli("contacts", "add", "c@x.io", "--first-name", "Plain", "--phone", "+33 6 12 34 56 78")

    guarded = cli("contacts", "export", "-").stdout
    rows = {r["email"]: r for r in csv.DictReader(io.StringIO(guarded))}
    assert rows["a@x.io"]["first_name"] == "'" + hostile
    assert rows["a@x.io"]["last_name"] == "'@SUM(A1)"
    assert rows["b@x.io"]["first_name"] == "'-2+3"
    assert rows["b@x.io"]["company"] == "'+Plus Corp"
    assert rows["c@x.io"]["first_name"] == "Plain"
    assert rows["c@x.io"]["phone"].startswith("'+")

    raw = tmp_path / "raw.csv"
    cli("contacts", "export", str(raw), "--raw")
    rows = {r["email"]: r for r in csv.DictReader(io.StringIO(raw.read_text(), newline=""))}
    assert rows["a@x.io"]["first_name"] == hostile
    assert rows["b@x.io"]["company"] == "+Plus Corp"


def test_export_dash_is_stdout_and_writes_no_file(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli("contacts", "add", "a@x.io")
    monkeypatch.chdir(tmp_path)
    out = cli("contacts", "export", "-")
    assert out.stdout.splitlines()[1].startswith("a@x.io,")
    assert "exported 1 contacts" in out.stderr
    assert not (tmp_path / "-").exists()


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@A1", "\tx", "\rx"])
def test_every_formula_trigger_is_neutralised(text: str) -> None:
    assert neutralise_formula(text) == "'" + text
    assert neutralise_formula(-1) == -1 and neutralise_formula("a=b") == "a=b"


def test_export_to_a_closed_pipe_stops_quietly(cli: Cli, tmp_path: Path) -> None:
    # Far more than a pipe's 64 KiB buffer holds, so the writer is still writing when the
    # reader goes away.
    path = tmp_path / "many.csv"
    path.write_text("email,company\n" + "".join(f"p{i}@x.io,{'x' * 60}\n" for i in range(5000)))
    cli("contacts", "import", str(path))
    env = {**os.environ, "LEADBRIDGE_DATA_DIR": str(tmp_path)}
    # A reader that takes one line and goes away, as `| head -1` does.
    proc = subprocess.run(
        f"{sys.executable} -m leadbridge contacts export - | head -1",
        shell=True,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.stdout.splitlines() == [proc.stdout.splitlines()[0]]
    assert proc.stdout.startswith("email,first_name")
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr
    assert "error" not in proc.stderr
