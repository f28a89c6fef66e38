"""``leadbridge livestorm ping`` and ``webhooks subscribe|list|delete`` against the fake."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points

import pytest
import typer
from dependency_injector import providers
from typer.testing import CliRunner

from leadbridge.cli._common import state as cli_state
from leadbridge.container import CoreContainer
from leadbridge_livestorm import URL_SECRET_CREDENTIAL, url_secret_digest
from leadbridge_livestorm._cli import register
from leadbridge_livestorm.testing import FakeLivestorm

HANDLED = [
    "people.registered",
    "people.attended",
    "people.not_attended",
    "people.watched_replay",
    "session.ended",
]


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


Cli = Callable[..., Result]


@pytest.fixture
def cli(fake: FakeLivestorm, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """``leadbridge livestorm …`` in-process, with the fake's URL and token in the environment."""
    monkeypatch.setenv("LIVESTORM_API_TOKEN", fake.token)
    monkeypatch.setenv("LIVESTORM_BASE_URL", fake.base_url)
    root = typer.Typer()

    @root.callback()
    def main() -> None:
        """The root command, standing in for ``leadbridge``."""

    register(root)
    runner = CliRunner()

    def run(*args: str) -> Result:
        res = runner.invoke(root, ["livestorm", *args])
        if res.exception is not None and not isinstance(res.exception, SystemExit):
            raise res.exception
        return Result(res.exit_code, res.stdout, res.stderr)

    return run


def test_ping_checks_the_token_and_names_the_workspace(cli: Cli, fake: FakeLivestorm) -> None:
    result = cli("ping")

    assert result.code == 0, result.stderr
    assert "Livestorm token accepted" in result.stdout
    assert fake.workspace.organization.name in result.stdout
    assert fake.calls == [("GET", "/ping"), ("GET", "/organization")]


def test_ping_json_reports_the_workspace_and_the_quota(cli: Cli, fake: FakeLivestorm) -> None:
    result = cli("ping", "--json")

    report = json.loads(result.stdout)
    assert report["ok"] is True and report["base_url"] == fake.base_url
    assert report["organization"]["name"] == fake.workspace.organization.name
    assert report["quota"]["monthly_remaining"] == fake.monthly_remaining
    assert report["quota"]["monthly_limit"] == 10_000


def test_ping_takes_options_over_the_environment(cli: Cli, fake: FakeLivestorm) -> None:
    fake.add_token("other-token", scopes={"events": "read"})

    result = cli("ping", "--token", "other-token", "--base-url", fake.base_url, "--json")

    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["organization"] is None  # no Identity scope: still ok


def test_a_refused_token_is_one_clear_line_without_the_token(cli: Cli) -> None:
    secret = "sk-live-do-not-print-me"

    result = cli("ping", "--token", secret)

    assert result.code == 1
    assert "the Livestorm API token is invalid or lacks a scope" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert secret not in result.stdout + result.stderr


def test_no_token_says_where_to_put_one(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LIVESTORM_API_TOKEN")

    result = cli("ping")

    assert result.code == 1 and "LIVESTORM_API_TOKEN" in result.stderr


def test_webhooks_subscribe_list_and_delete(cli: Cli, fake: FakeLivestorm) -> None:
    url = "https://crm.example.com/webhooks/livestorm"

    created = json.loads(cli("webhooks", "subscribe", url, "--json").stdout)["items"]
    again = json.loads(cli("webhooks", "subscribe", url, "--json").stdout)["items"]
    one = cli("webhooks", "subscribe", "https://other.example.com/hook", "--event", "session.ended")
    listed = json.loads(cli("webhooks", "list", "--json").stdout)["items"]
    deleted = cli("webhooks", "delete", created[0]["id"])
    after = json.loads(cli("webhooks", "list", "--json").stdout)["items"]

    assert [(w["event"], w["status"]) for w in created] == [(e, "created") for e in HANDLED]
    assert [w["status"] for w in again] == ["existing"] * 5  # subscribing twice is harmless
    assert one.code == 0 and "session.ended" in one.stdout
    assert len(listed) == 6 and {w["url"] for w in listed} == {
        url,
        "https://other.example.com/hook",
    }
    assert deleted.code == 0 and created[0]["id"] not in {w["id"] for w in after}
    assert len(fake.workspace.webhooks) == 5


def test_webhook_errors_use_livestorms_words(cli: Cli) -> None:
    bad_event = cli("webhooks", "subscribe", "https://x.example.com", "--event", "people.danced")
    missing = cli("webhooks", "delete", "nope")

    assert bad_event.code == 1 and "people.danced" in bad_event.stderr
    assert missing.code == 1 and "Livestorm has no webhook nope" in missing.stderr


def test_the_command_is_registered_with_leadbridge(fake: FakeLivestorm) -> None:
    """Through the plugin container's ``cli`` provider (not a second entry point)."""
    found = {ep.name for ep in entry_points(group="leadbridge.cli")}
    env = {
        **os.environ,
        "LIVESTORM_API_TOKEN": fake.token,
        "LIVESTORM_BASE_URL": fake.base_url,
    }

    done = subprocess.run(
        [sys.executable, "-m", "leadbridge", "livestorm", "ping", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )

    assert "livestorm" not in found  # registered once, by the integration's container
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ok"] is True


async def test_ping_reads_the_stored_credentials_without_token(
    cli: Cli, fake: FakeLivestorm, container: CoreContainer, monkeypatch: pytest.MonkeyPatch
) -> None:
    await container.integration_settings_service().configure(
        "livestorm", settings={"base_url": fake.base_url}, credentials={"api_token": fake.token}
    )
    monkeypatch.delenv("LIVESTORM_API_TOKEN")
    monkeypatch.delenv("LIVESTORM_BASE_URL")
    # The command runs its own event loop: give it its own container on the same database.
    monkeypatch.setattr(
        cli_state, "container", CoreContainer(settings=providers.Object(container.settings()))
    )

    result = await asyncio.to_thread(cli, "ping", "--json")

    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["ok"] is True


async def test_webhooks_says_which_deliveries_the_receiver_accepts(
    cli: Cli, fake: FakeLivestorm, container: CoreContainer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        cli_state, "container", CoreContainer(settings=providers.Object(container.settings()))
    )
    settings = container.integration_settings_service()
    await settings.configure("livestorm", credentials={"api_token": fake.token}, enabled=True)

    refused = await asyncio.to_thread(cli, "webhooks")
    subscribed = await asyncio.to_thread(cli, "webhooks", "subscribe", "https://crm.test/hook")
    await settings.configure("livestorm", credentials={"webhook_secret": "a-long-shared-secret"})
    accepted = await asyncio.to_thread(cli, "webhooks", "--json")

    assert refused.code == 0, refused.stderr
    assert "refused" in refused.stdout and "--secret webhook_secret" in refused.stdout
    assert "off" in refused.stdout and "rotate-url-secret" in refused.stdout
    assert "refuses every signed delivery" in subscribed.stdout
    state = json.loads(accepted.stdout)
    assert state["signed"]["accepted"] is True and state["url_secret"]["accepted"] is False


async def test_rotate_url_secret_shows_it_once_and_stores_a_digest(
    cli: Cli, container: CoreContainer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        cli_state, "container", CoreContainer(settings=providers.Object(container.settings()))
    )

    first = await asyncio.to_thread(
        cli, "webhooks", "rotate-url-secret", "--public-url", "https://crm.test/", "--json"
    )
    second = await asyncio.to_thread(cli, "webhooks", "rotate-url-secret")
    state = await asyncio.to_thread(cli, "webhooks", "--json")
    stored = await container.integration_settings_service().credentials("livestorm")
    revoked = await asyncio.to_thread(cli, "webhooks", "rotate-url-secret", "--revoke")
    after = await container.integration_settings_service().credentials("livestorm")

    url = json.loads(first.stdout)["url"]
    assert url.startswith("https://crm.test/webhooks/livestorm/")
    secret = url.rsplit("/", 1)[1]
    newer = second.stdout.strip().splitlines()[-1].rsplit("/", 1)[1]
    assert len(secret) >= 43 and newer != secret
    assert json.loads(state.stdout)["url_secret"]["accepted"] is True
    digest = str(stored[URL_SECRET_CREDENTIAL])
    assert digest == url_secret_digest(newer) and newer not in str(stored)
    assert revoked.code == 0 and "removed" in revoked.stdout
    assert not after.get(URL_SECRET_CREDENTIAL)
