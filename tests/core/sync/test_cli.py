"""``leadbridge sync run|status|cancel`` against the in-memory integration."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from leadbridge import CoreContainer, db
from leadbridge.cli import app
from leadbridge.cli._common import state
from leadbridge.sync import SyncTarget, register_sync_target, unregister_sync_target
from leadbridge.testing import MemoryIntegration

from .conftest import seeded


@pytest.fixture
def remote(
    store: CoreContainer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[MemoryIntegration]:
    monkeypatch.setenv("LEADBRIDGE_DATABASE_URL", store.settings().database_url)
    monkeypatch.setenv("LEADBRIDGE_DATA_DIR", str(tmp_path))
    remote = seeded(12, page_size=5)
    register_sync_target("memory", lambda: SyncTarget(remote.exchange(), remote.manual()))
    try:
        yield remote
    finally:
        unregister_sync_target("memory")


def _count(store: CoreContainer) -> int:
    """Contacts in the store, read on an engine of this test's own event loop."""

    async def count() -> int:
        engine = db.create_engine(store.settings().database_url)
        try:
            async with engine.connect() as conn:
                return int((await conn.execute(text("SELECT count(*) FROM contacts"))).scalar())
        finally:
            await engine.dispose()

    return asyncio.run(count())


def cli(*args: str) -> tuple[int, str, str]:
    state.container = None
    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_run_json_then_status(remote: MemoryIntegration, store: CoreContainer) -> None:
    code, out, _err = cli("sync", "run", "memory", "--json")
    assert code == 0
    doc = json.loads(out)
    assert (doc["status"], doc["created"], doc["pulled"], doc["api_calls"]) == (
        "succeeded",
        12,
        12,
        3,
    )
    assert _count(store) == 12

    code, out, _err = cli("sync", "status", "--json")
    (status,) = json.loads(out)["integrations"]
    assert status["integration"] == "memory" and status["mapped"] == 12
    assert status["last_run"]["id"] == doc["run_id"]
    assert status["last_run"]["trigger"] == "cli"

    remote.add({"emailAddress": "broken"})
    code, out, _err = cli("sync", "run", "memory")
    assert code == 0 and "partial" in out and "broken" in out
    code, out, _err = cli("sync", "status", "memory", "--json")
    doc = json.loads(out)
    assert [r["status"] for r in doc["runs"]] == ["partial", "succeeded"]
    assert doc["errors"][0]["integration_id"] == "p12"
    code, out, _err = cli("sync", "status", "memory")
    assert code == 0 and "p12" in out


def test_dry_run_and_options(remote: MemoryIntegration, store: CoreContainer) -> None:
    code, out, _err = cli("sync", "run", "memory", "--dry-run", "--json")
    doc = json.loads(out)
    assert (code, doc["dry_run"], doc["run_id"], doc["created"]) == (0, True, None, 12)
    assert _count(store) == 0

    code, out, _err = cli("sync", "run", "memory", "--since", "2999-01-01", "--json")
    assert (code, json.loads(out)["pulled"]) == (0, 0)
    # The dated run moved the cursor past everything; a full targeted run still finds ids.
    code, out, _err = cli(
        "sync", "run", "memory", "--full", "--pull-only", "--ids", "p1,p2", "--json"
    )
    assert (code, json.loads(out)["created"]) == (0, 2)


def test_errors_are_one_line(remote: MemoryIntegration) -> None:
    code, _out, err = cli("sync", "run", "nope")
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert err.startswith("error: integration 'nope' does not exist")
    code, _out, err = cli("sync", "run", "memory", "--pull-only", "--push-only")
    assert code == 1 and "not both" in err
    code, _out, err = cli("sync", "run", "memory", "--since", "yesterday-ish")
    assert code == 1 and "--since 'yesterday-ish'" in err
    code, _out, err = cli("sync", "cancel", "999")
    assert code == 1 and "sync run 999 does not exist" in err

    remote.bad_credentials = True
    code, out, err = cli("sync", "run", "memory", "--json")
    assert code == 1 and json.loads(out)["status"] == "failed"
    assert err.strip().splitlines() == [
        "error: sync memory failed: memory: 401 Unauthorized (check the API key)"
    ]


def test_skipped_objects_are_a_count_with_a_listing_not_errors(
    remote: MemoryIntegration,
) -> None:
    remote.skipped = {"p3", "p7"}
    code, out, _err = cli("sync", "run", "memory")
    assert code == 0 and "succeeded" in out
    assert "2 skipped on purpose" in out and "sync status memory --skipped" in out
    assert "p3" not in out and "internal test account" not in out

    code, out, _err = cli("sync", "status", "memory")
    assert code == 0 and "errors" not in out.split("runs", 1)[1]
    assert "p3" not in out and "--skipped" in out
    doc = json.loads(cli("sync", "status", "memory", "--json")[1])
    assert doc["errors"] == [] and doc["integrations"][0]["unresolved_errors"] == 0

    listed = json.loads(cli("sync", "status", "memory", "--skipped", "--json")[1])
    assert sorted(e["integration_id"] for e in listed["items"]) == ["p3", "p7"]
    assert listed["next_cursor"] is None
    assert all(e["skipped"] and "test account" in e["message"] for e in listed["items"])
    code, out, _err = cli("sync", "status", "memory", "--skipped")
    assert code == 0 and "p3" in out and "p7" in out

    code, _out, err = cli("sync", "status", "--skipped")
    assert code == 2 and "name an integration" in err


def test_status_json_holds_cursors_as_json(remote: MemoryIntegration, store: CoreContainer) -> None:
    assert cli("sync", "run", "memory")[0] == 0
    doc = json.loads(cli("sync", "status", "memory", "--json")[1])
    assert doc["integrations"][0]["cursors"] == {"people": "12"}  # an opaque text cursor

    async def json_cursor() -> None:
        # Livestorm's cursors are JSON documents.
        engine = db.create_engine(store.settings().database_url)
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    text("UPDATE sync_cursors SET value = :v"), {"v": '{"since": 5, "done": []}'}
                )
        finally:
            await engine.dispose()

    asyncio.run(json_cursor())
    doc = json.loads(cli("sync", "status", "memory", "--json")[1])
    assert doc["integrations"][0]["cursors"] == {"people": {"since": 5, "done": []}}


def test_progress_bar_shows_the_total_and_an_eta(
    remote: MemoryIntegration, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from rich.console import Console

    from leadbridge.cli import _sync

    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=120, color_system=None)
    monkeypatch.setattr(_sync, "err_console", terminal)
    code, _out, _err = cli("sync", "run", "memory", "--pull-only")
    assert code == 0
    drawn = screen.getvalue()
    assert "pull people" in drawn and "12/12" in drawn and "ETA" in drawn
