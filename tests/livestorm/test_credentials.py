"""A malformed Livestorm token is refused by ``integrations configure``, not at the first sync."""

from __future__ import annotations

import json

import pytest

from tests._cli import Cli, cli

__all__ = ["cli"]  # the fixture

TOKEN = "0f9e8d7c6b5a49382716abcdef012345"


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        (f"Bearer {TOKEN}", "starts with 'Bearer '"),
        (f"bearer {TOKEN}", "starts with 'Bearer '"),
        (f" {TOKEN}", "spaces"),
        (f"{TOKEN[:10]} {TOKEN[10:]}", "spaces"),
        (f"{TOKEN}\t", "spaces"),
    ],
    ids=["bearer", "lowercase-bearer", "leading-space", "inner-space", "trailing-tab"],
)
def test_malformed_token_is_refused_at_configure_without_echoing_it(
    cli: Cli, given: str, reason: str
) -> None:
    refused = cli(
        "integrations",
        "configure",
        "livestorm",
        "--secret-stdin",
        "api_token",
        input=given + "\n",
        ok=False,
    )
    assert refused.returncode == 1
    (line,) = refused.stderr.strip().splitlines()
    assert line.startswith("error: credentials.api_token:") and reason in line
    assert TOKEN[:10] not in refused.stdout + refused.stderr
    shown = json.loads(cli("integrations", "show", "livestorm", "--json").stdout)
    assert shown["credentials_set"] is False


def test_a_well_formed_token_is_stored(cli: Cli) -> None:
    cli("integrations", "configure", "livestorm", "--secret-stdin", "api_token", input=TOKEN)
    shown = json.loads(cli("integrations", "show", "livestorm", "--json").stdout)
    assert shown["credentials_set"] is True
