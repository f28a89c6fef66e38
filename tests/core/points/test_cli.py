from __future__ import annotations

import json

from tests._cli import Cli


def test_points_end_to_end(cli: Cli) -> None:
    group = json.loads(cli("points", "groups", "create", "webinars", "--json").stdout)
    assert group["name"] == "webinars"
    groups = json.loads(cli("points", "groups", "list", "--json").stdout)["items"]
    assert [g["name"] for g in groups] == ["webinars"]

    created = json.loads(
        cli(
            "points",
            "actions",
            "create",
            "--name",
            "New lead",
            "--type",
            "contact.created",
            "--delta",
            "5",
            "--json",
        ).stdout
    )
    assert {"name": "New lead", "type": "contact.created", "delta": 5}.items() <= created.items()
    tagged = json.loads(
        cli(
            "points",
            "actions",
            "create",
            "--name",
            "VIP",
            "--type",
            "contact.tag_added",
            "--delta",
            "20",
            "--settings-json",
            '{"tag": "vip"}',
            "--group",
            "webinars",
            "--repeatable",
            "--json",
        ).stdout
    )
    assert tagged["settings"] == {"tag": "vip"} and tagged["group"] == "webinars"
    assert tagged["repeatable"] is True
    listed = json.loads(cli("points", "actions", "list", "--json").stdout)["items"]
    assert [a["name"] for a in listed] == ["New lead", "VIP"]

    trigger = json.loads(
        cli(
            "points",
            "triggers",
            "create",
            "--name",
            "Hot",
            "--threshold",
            "10",
            "--events-json",
            '[{"type": "contact.add_tag", "settings": {"tag": "hot"}}]',
            "--json",
        ).stdout
    )
    assert trigger["events"] == [{"type": "contact.add_tag", "settings": {"tag": "hot"}}]
    triggers = json.loads(cli("points", "triggers", "list", "--json").stdout)["items"]
    assert [t["name"] for t in triggers] == ["Hot"]

    # Contact events award points through the CLI too.
    cli("contacts", "add", "ann@x.io", "--tag", "vip")
    adjusted = json.loads(
        cli("points", "adjust", "ann@x.io", "-2", "--reason", "typo", "--json").stdout
    )
    assert adjusted == {
        "contact_id": adjusted["contact_id"],
        "email": "ann@x.io",
        "delta": -2,
        "group": None,
        "score": 3,
    }
    adjusted = json.loads(
        cli("points", "adjust", "ann@x.io", "7", "--reason", "call", "--json").stdout
    )
    assert adjusted["score"] == 10
    history = json.loads(cli("points", "history", "ANN@x.io", "--json").stdout)
    assert history["points"] == 10
    assert history["group_scores"] == {"webinars": 20}
    assert [(c["delta"], c["reason"], c["group"]) for c in history["changes"]] == [
        (7, "call", None),
        (-2, "typo", None),
        (20, "VIP", "webinars"),
        (5, "New lead", None),
    ]
    shown = json.loads(cli("contacts", "show", "ann@x.io", "--json").stdout)
    assert shown["tags"] == ["hot", "vip"]

    first = json.loads(cli("points", "history", "ann@x.io", "--limit", "3", "--json").stdout)
    older = json.loads(
        cli("points", "history", "ann@x.io", "--before", str(first["next_before"]), "--json").stdout
    )
    assert [c["reason"] for c in first["changes"] + older["changes"]] == [
        "call",
        "typo",
        "VIP",
        "New lead",
    ]
    assert older["next_before"] is None
    human = cli("points", "history", "ann@x.io").stdout
    assert "10 points" in human and "webinars 20" in human

    types = json.loads(cli("points", "types", "--json").stdout)
    assert "contact.tag_added" in [t["key"] for t in types["action_types"]]
    assert "segment.add" in [t["key"] for t in types["trigger_event_types"]]


def test_points_errors_are_one_line(cli: Cli) -> None:
    bad = cli(
        "points",
        "actions",
        "create",
        "--name",
        "X",
        "--type",
        "contact.tag_added",
        "--delta",
        "5",
        "--settings-json",
        '{"tag": ""}',
        ok=False,
    )
    assert bad.returncode == 1
    assert "settings.tag: String should have at least 1 character" in bad.stderr
    assert "Traceback" not in bad.stderr

    bad_json = cli(
        "points",
        "actions",
        "create",
        "--name",
        "X",
        "--type",
        "contact.created",
        "--delta",
        "5",
        "--settings-json",
        "{nope",
        ok=False,
    )
    assert bad_json.returncode == 1 and "--settings-json: invalid JSON" in bad_json.stderr

    missing = cli("points", "history", "nobody@x.io", ok=False)
    assert missing.returncode == 1 and "nobody@x.io" in missing.stderr

    cli("contacts", "add", "ann@x.io")
    no_reason = cli("points", "adjust", "ann@x.io", "5", "--reason", " ", ok=False)
    assert no_reason.returncode == 1 and "reason" in no_reason.stderr
    not_int = cli("points", "adjust", "ann@x.io", "five", "--reason", "x", ok=False)
    assert not_int.returncode == 1 and "DELTA must be an integer" in not_int.stderr
    usage = cli("points", "actions", "create", "--name", "X", ok=False)
    assert usage.returncode == 2
    assert json.loads(cli("points", "actions", "list", "--json").stdout)["items"] == []
