from __future__ import annotations

import json


def test_tokens_end_to_end(cli) -> None:  # type: ignore[no-untyped-def]
    created = json.loads(
        cli(
            "tokens",
            "create",
            "--name",
            "frontend",
            "--scope",
            "contacts:read",
            "--scope",
            "segments:read,sync:run",
            "--json",
        ).stdout
    )
    secret = created["token"]
    assert secret.startswith("lbt_")
    assert created["scopes"] == ["contacts:read", "segments:read", "sync:run"]
    assert created["active"] is True and created["revoked_at"] is None

    human = cli("tokens", "create", "--name", "ci", "--scope", "contacts:write")
    assert human.stdout.strip().splitlines()[-1].startswith("lbt_")
    assert "cannot be shown again" in human.stderr

    listed = json.loads(cli("tokens", "list", "--json").stdout)["items"]
    assert [t["name"] for t in listed] == ["frontend", "ci"]
    assert secret not in json.dumps(listed)
    assert all("token" not in t for t in listed)
    table = cli("tokens", "list").stdout
    assert "frontend" in table and secret not in table

    revoked = json.loads(cli("tokens", "revoke", str(created["id"]), "--json").stdout)
    assert revoked["revoked_at"] is not None and revoked["active"] is False
    assert "revoked" in cli("tokens", "revoke", str(created["id"])).stdout
    listed = json.loads(cli("tokens", "list", "--json").stdout)["items"]
    assert [t["active"] for t in listed] == [False, True]


def test_tokens_errors_are_one_line(cli) -> None:  # type: ignore[no-untyped-def]
    bad = cli("tokens", "create", "--name", "x", "--scope", "contacts:admin", ok=False)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert bad.stderr.strip().splitlines() == [
        "error: unknown scope 'contacts:admin'; use one of contacts:read, contacts:write, "
        "segments:read, segments:write, integrations:read, integrations:write, sync:run"
    ]
    missing = cli("tokens", "revoke", "42", ok=False)
    assert missing.returncode == 1 and "token 42 does not exist" in missing.stderr
    assert cli("tokens", "create", "--name", "x", ok=False).returncode == 2  # --scope missing
    assert json.loads(cli("tokens", "list", "--json").stdout)["items"] == []
