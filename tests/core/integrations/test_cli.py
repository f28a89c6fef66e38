from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import inspect

from leadbridge import db
from leadbridge.cli import _load_plugins
from tests._cli import Cli

SECRET = "sk-CLI-SECRET-77"


@pytest.fixture
def cli(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """Core's in-process CLI with the plugins' commands added, as `leadbridge` does."""
    monkeypatch.delenv("LEADBRIDGE_PLUGINS", raising=False)
    _load_plugins()
    return cli


def test_db_upgrade_applies_plugin_migrations(cli: Cli, fresh_database_url: str) -> None:
    branches = {b["branch"]: b for b in json.loads(cli("db", "current", "--json").stdout)["items"]}
    assert branches["example"]["up_to_date"] and branches["example"]["current"] == "example_0001"
    assert branches["integrations"]["current"] == "integrations_0001"

    async def tables() -> set[str]:
        engine = db.create_engine(fresh_database_url)
        try:
            async with engine.connect() as conn:
                return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        finally:
            await engine.dispose()

    assert {"example_widgets", "integrations"} <= asyncio.run(tables())


def test_list_shows_integrations_and_broken_plugins(cli: Cli) -> None:
    rows = {r["name"]: r for r in json.loads(cli("integrations", "list", "--json").stdout)["items"]}
    assert rows["example"] == {
        "name": "example",
        "display_name": "Example CRM",
        "enabled": False,
        "configured": False,
        "credentials_set": False,
        "features": ["segment_filters", "sync_pull", "sync_push"],
        "error": None,
    }
    assert "leadbridge_example_missing_dependency" in rows["broken"]["error"]
    human = cli("integrations", "list")
    assert "example" in human.stdout and "broken" in human.stdout


def test_leadbridge_plugins_restricts_the_list(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADBRIDGE_PLUGINS", "example")
    rows = json.loads(cli("integrations", "list", "--json").stdout)["items"]
    assert [r["name"] for r in rows] == ["example"]


def test_configure_and_show_never_print_secrets(cli: Cli) -> None:
    configured = cli(
        "integrations",
        "configure",
        "example",
        "--set",
        "requests_per_second=2.5",
        "--set",
        'tags=["a", "b"]',
        "--set",
        f"api_key={SECRET}",  # a key of the credentials schema: stored encrypted
        "--secret",
        "account=12345",  # text fields keep the text as given
        "--enable",
        "--conflict-winner",
        "integration",
        "--first-sync-from",
        "2024-01-01",
        "--json",
    )
    assert SECRET not in configured.stdout + configured.stderr
    doc = json.loads(configured.stdout)
    assert doc["enabled"] and doc["credentials_set"] and doc["configured"]
    assert doc["settings"] == {
        "requests_per_second": 2.5,
        "sync_deleted": False,
        "tags": ["a", "b"],
        "region": "eu",
    }
    assert doc["conflict_winner"] == "integration"
    assert doc["first_sync_from"].startswith("2024-01-01T00:00:00")
    assert doc["credential_fields"] == ["api_key", "account"]

    shown = cli("integrations", "show", "example", "--json")
    assert json.loads(shown.stdout)["settings"] == doc["settings"]
    human = cli("integrations", "show", "example")
    for out in (shown, human):
        assert SECRET not in out.stdout + out.stderr and "12345" not in out.stdout
    assert "credentials" in human.stdout and "set" in human.stdout

    disabled = json.loads(cli("integrations", "configure", "example", "--disable", "--json").stdout)
    assert disabled["enabled"] is False and disabled["credentials_set"] is True


def test_secret_can_be_prompted_without_echo(cli: Cli) -> None:
    out = cli("integrations", "configure", "example", "--secret", "api_key", input=SECRET + "\n")
    assert SECRET not in out.stdout
    shown = json.loads(cli("integrations", "show", "example", "--json").stdout)
    assert shown["credentials_set"] is True


def test_configure_errors_are_one_line(cli: Cli) -> None:
    bad = cli("integrations", "configure", "example", "--set", "requests_per_second=0", ok=False)
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines() == [
        "error: settings.requests_per_second: Input should be greater than 0"
    ]
    enable = cli("integrations", "configure", "example", "--enable", ok=False)
    assert enable.returncode == 1 and "credentials.api_key: Field required" in enable.stderr
    unknown = cli("integrations", "show", "nope", ok=False)
    assert unknown.returncode == 1 and "'nope' does not exist" in unknown.stderr
    broken = cli("integrations", "show", "broken", ok=False)
    assert broken.returncode == 1 and "failed to load" in broken.stderr
    usage = cli("integrations", "configure", "example", "--set", "novalue", ok=False)
    assert usage.returncode == 2


def test_mapping_commands(cli: Cli) -> None:
    cli("fields", "add", "plan", "--type", "select", "--options", "free,pro")
    args = ("integrations", "mapping", "example", "--default", "--object", "people", "--json")
    default = json.loads(cli(*args).stdout)
    plan = {"internal_field": "plan", "integration_field": "plan", "direction": "bidirectional"}
    assert plan in default["people"]

    changed = json.loads(
        cli(
            "integrations",
            "mapping",
            "example",
            "--object",
            "people",
            "--map",
            "email=email",
            "--map",
            "first_name=firstName:to_internal",
            "--map",
            "company=website:to_integration",
            "--json",
        ).stdout
    )
    assert changed == {
        "people": [
            {"internal_field": "email", "integration_field": "email", "direction": "bidirectional"},
            {
                "internal_field": "first_name",
                "integration_field": "firstName",
                "direction": "to_internal",
            },
            {
                "internal_field": "company",
                "integration_field": "website",
                "direction": "to_integration",
            },
        ]
    }
    shown = json.loads(cli("integrations", "mapping", "example", "--json").stdout)
    assert shown["people"] == changed["people"] and shown["leads"] == []

    read_only = cli(
        "integrations",
        "mapping",
        "example",
        "--object",
        "people",
        "--map",
        "email=email",
        "--map",
        "city=score:to_integration",
        ok=False,
    )
    assert read_only.returncode == 1 and "'score' cannot be mapped" in read_only.stderr
    no_object = cli("integrations", "mapping", "example", "--map", "email=email", ok=False)
    assert no_object.returncode == 2 and "several objects" in no_object.stderr
    bad_direction = cli(
        "integrations", "mapping", "example", "--object", "people", "--map", "a=b:up", ok=False
    )
    assert bad_direction.returncode == 2 and "unknown direction" in bad_direction.stderr


def test_plugin_cli_command_is_registered(cli: Cli) -> None:
    out = cli("example", "objects", "--json")
    assert json.loads(out.stdout) == ["people", "leads"]


def test_secret_from_env_and_stdin_stay_off_the_command_line(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXAMPLE_KEY", SECRET)
    by_env = cli("integrations", "configure", "example", "--secret-from-env", "api_key=EXAMPLE_KEY")
    assert SECRET not in by_env.stdout + by_env.stderr and "warning" not in by_env.stderr
    assert json.loads(cli("integrations", "show", "example", "--json").stdout)["credentials_set"]

    by_stdin = cli(
        "integrations",
        "configure",
        "example",
        "--secret-stdin",
        "api_key",
        "--enable",
        "--json",
        input=SECRET + "\n",
    )
    assert json.loads(by_stdin.stdout)["enabled"] is True
    assert SECRET not in by_stdin.stdout + by_stdin.stderr


def test_a_secret_on_the_command_line_is_warned_about_and_a_blank_one_refused(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    warned = cli("integrations", "configure", "example", "--secret", f"api_key={SECRET}")
    assert "api_key given on the command line" in warned.stderr and SECRET not in warned.stderr
    as_setting = cli("integrations", "configure", "example", "--set", f"api_key={SECRET}")
    assert "api_key given on the command line" in as_setting.stderr
    assert SECRET not in as_setting.stderr

    monkeypatch.setenv("BLANK", "  ")
    for args, input_ in (
        (("--secret", "api_key= "), None),
        (("--secret-from-env", "api_key=BLANK"), None),
        (("--secret-from-env", "api_key=NOT_SET_ANYWHERE"), None),
        (("--secret-stdin", "api_key"), "\n"),
    ):
        refused = cli("integrations", "configure", "example", *args, input=input_, ok=False)
        assert refused.returncode == 2, args
        assert "empty" in refused.stderr or "not set" in refused.stderr
