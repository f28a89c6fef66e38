from __future__ import annotations

import json

import pytest

from leadbridge.sync import SyncTarget, register_sync_target, unregister_sync_target
from leadbridge.testing import MemoryIntegration
from tests._cli import Cli


def test_schedules_add_list_pause_resume_remove(cli: Cli) -> None:
    res = cli("schedules", "add", "sync", "memory", "--cron", "*/15 * * * *", "--json")
    added = json.loads(res.stdout)
    assert added["kind"] == "sync" and added["target"] == "memory" and added["timezone"] == "UTC"
    cli("schedules", "add", "segments", "--cron", "0 6 * * *", "--tz", "Europe/Paris")
    listed = json.loads(cli("schedules", "list", "--json").stdout)["items"]
    assert [(s["kind"], s["target"], s["enabled"]) for s in listed] == [
        ("sync", "memory", True),
        ("segments", None, True),
    ]
    paused = json.loads(cli("schedules", "pause", str(added["id"]), "--json").stdout)
    assert paused["enabled"] is False
    assert json.loads(cli("schedules", "resume", str(added["id"]), "--json").stdout)["enabled"]
    cli("schedules", "remove", str(added["id"]))
    assert len(json.loads(cli("schedules", "list", "--json").stdout)["items"]) == 1


def test_a_bad_cron_is_refused_in_one_line(cli: Cli) -> None:
    res = cli("schedules", "add", "prune", "--cron", "* * * *  99", ok=False)
    assert res.returncode == 1
    assert res.stderr.strip().count("\n") == 0 and "'* * * *  99'" in res.stderr
    assert "Traceback" not in res.stderr
    missing = cli("schedules", "pause", "404", ok=False)
    assert missing.returncode == 1 and "schedule 404 does not exist" in missing.stderr


def test_defer_and_jobs_are_refused_clearly_on_sqlite(cli: Cli, db_backend: str) -> None:
    if db_backend != "sqlite":
        pytest.skip("SQLite behaviour")
    for args in (("sync", "run", "memory", "--defer"), ("jobs", "list")):
        res = cli(*args, ok=False)
        assert res.returncode == 1
        line = res.stderr.strip()
        assert "\n" not in line and "only on PostgreSQL" in line and "SQLite" in line


def test_defer_then_jobs_list_cancel_and_retry_on_postgres(cli: Cli, db_backend: str) -> None:
    if db_backend != "postgres":
        pytest.skip("the queue is PostgreSQL's")
    remote = MemoryIntegration()
    register_sync_target("memory", lambda: SyncTarget(remote.exchange(), remote.manual()))
    try:
        queued = json.loads(cli("sync", "run", "memory", "--defer", "--json").stdout)
        assert (queued["status"], queued["trigger"]) == ("queued", "cli")
        again = json.loads(cli("sync", "run", "memory", "--defer", "--json").stdout)
        assert again["run_id"] == queued["run_id"], "a waiting sync absorbs the second"
        unknown = cli("sync", "run", "nope", "--defer", ok=False)
        assert unknown.returncode == 1 and "'nope'" in unknown.stderr
    finally:
        unregister_sync_target("memory")
    [job] = json.loads(cli("jobs", "list", "--json").stdout)["items"]
    assert (job["kind"], job["target"], job["status"], job["run_id"]) == (
        "sync",
        "memory",
        "todo",
        queued["run_id"],
    )
    cancelled = json.loads(cli("jobs", "cancel", str(job["id"]), "--json").stdout)
    assert cancelled["status"] == "cancelled"
    status = json.loads(cli("sync", "status", "memory", "--json").stdout)
    assert [r["status"] for r in status["runs"]] == ["cancelled"]
    twice = cli("jobs", "cancel", str(job["id"]), ok=False)
    assert twice.returncode == 1 and "cannot be cancelled" in twice.stderr
    retried = cli("jobs", "retry", str(job["id"]), ok=False)
    assert retried.returncode == 1 and "only failed jobs are retried" in retried.stderr
    assert json.loads(cli("jobs", "list", "--status", "todo", "--json").stdout)["items"] == []
    bad = cli("jobs", "list", "--status", "sleeping", ok=False)
    assert bad.returncode == 1 and "'sleeping'" in bad.stderr
