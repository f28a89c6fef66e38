from __future__ import annotations

import json

import pytest

from tests._cli import Cli


def test_schedules_add_list_pause_resume_remove(cli: Cli) -> None:
    res = cli("schedules", "add", "sync", "memory", "--cron", "*/15 * * * *", "--json")
    added = json.loads(res.stdout)
    assert added["kind"] == "sync" and added["target"] == "memory" and added["timezone"] == "UTC"
    cli("schedules", "add", "segments", "--cron", "0 6 * * *", "--tz", "Europe/Paris")
    listed = json.loads(cli("schedules", "list", "--json").stdout)
    assert [(s["kind"], s["target"], s["enabled"]) for s in listed] == [
        ("sync", "memory", True),
        ("segments", None, True),
    ]
    paused = json.loads(cli("schedules", "pause", str(added["id"]), "--json").stdout)
    assert paused["enabled"] is False
    assert json.loads(cli("schedules", "resume", str(added["id"]), "--json").stdout)["enabled"]
    cli("schedules", "remove", str(added["id"]))
    assert len(json.loads(cli("schedules", "list", "--json").stdout)) == 1


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
