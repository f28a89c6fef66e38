from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from .._errors import ValidationError
from ..container import CoreContainer
from ._common import console, fail, print_json, print_list, run

app = typer.Typer(help="Points: actions, groups, triggers, history and adjustments.")
actions_app = typer.Typer(help="Configured point actions.", no_args_is_help=True)
groups_app = typer.Typer(help="Point groups.", no_args_is_help=True)
triggers_app = typer.Typer(help="Threshold triggers.", no_args_is_help=True)
app.add_typer(actions_app, name="actions")
app.add_typer(groups_app, name="groups")
app.add_typer(triggers_app, name="triggers")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def _json_arg(text: str | None, option: str) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"{option}: invalid JSON ({exc.msg} at position {exc.pos})", exc)


# -- actions ----------------------------------------------------------------------------------


@actions_app.command("list")
def actions_list(
    type_: Annotated[str | None, typer.Option("--type", help="Only actions of this type.")] = None,
    json_: JsonOpt = False,
) -> None:
    """List configured point actions."""
    actions = run(lambda c: c.points_service().list_actions(type=type_))
    if json_:
        print_list(a.to_dict() for a in actions)
        return
    table = Table("id", "name", "type", "delta", "group", "repeatable", "published", "settings")
    for a in actions:
        table.add_row(
            str(a.id),
            a.name,
            a.type,
            f"{a.delta:+d}",
            a.group or "",
            "yes" if a.repeatable else "",
            "yes" if a.published else "no",
            json.dumps(a.settings, ensure_ascii=False) if a.settings else "",
        )
    console.print(table)


@actions_app.command("create")
def actions_create(
    name: Annotated[str, typer.Option("--name", help="What people read in the history.")],
    type_: Annotated[str, typer.Option("--type", help="An action type key (see `points types`).")],
    delta: Annotated[int, typer.Option("--delta", help="Points added; negative removes.")],
    settings_json: Annotated[
        str | None,
        typer.Option("--settings-json", help='The type\'s settings as JSON: {"tag":"vip"}.'),
    ] = None,
    group: Annotated[
        str | None, typer.Option("--group", help="Score this group instead of the total.")
    ] = None,
    repeatable: Annotated[
        bool, typer.Option("--repeatable", help="Award every time, not once per contact.")
    ] = False,
    unpublished: Annotated[
        bool, typer.Option("--unpublished", help="Save it without awarding yet.")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Configure a point action."""
    settings = _json_arg(settings_json, "--settings-json")
    action = run(
        lambda c: c.points_service().create_action(
            name,
            type_,
            delta,
            settings=settings,
            group=group,
            repeatable=repeatable,
            published=not unpublished,
        )
    )
    if json_:
        print_json(action.to_dict())
    else:
        console.print(
            f"point action [bold]{action.id}[/bold] {action.name!r} ({action.type}) created"
        )


@app.command("types")
def types_cmd(json_: JsonOpt = False) -> None:
    """List point action types and trigger event types (core's and plugins')."""

    async def load(c: CoreContainer) -> dict[str, list[dict[str, Any]]]:
        service = c.points_service()
        return {
            "action_types": [t.describe() for t in service.action_types],
            "trigger_event_types": [t.describe() for t in service.trigger_event_types],
        }

    found = run(load)
    if json_:
        print_json(found)
        return
    for title, key in (("action types", "action_types"), ("trigger events", "trigger_event_types")):
        table = Table("key", "label", "settings", title=title)
        for t in found[key]:
            settings = ", ".join(t["settings_schema"].get("properties", {}))
            table.add_row(t["key"], t["label"], settings)
        console.print(table)


# -- history and adjustments ----------------------------------------------------------------


@app.command("history")
def history_cmd(
    email: str,
    limit: Annotated[int, typer.Option(help="Newest changes shown (at most 1000).")] = 50,
    before: Annotated[
        int | None,
        typer.Option(
            metavar="CURSOR", help="Older changes: the next_before of the previous --json page."
        ),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """A contact's points changes, newest first, with its total and group scores."""

    async def load(c: CoreContainer) -> dict[str, Any]:
        contact = await c.contact_service().get_by_email(email)
        points = c.points_service()
        page = await points.history(contact.id, limit=limit, before=before)
        return {
            "contact_id": contact.id,
            "email": contact.email,
            "points": contact.points,
            "group_scores": await points.group_scores(contact.id),
            "changes": [change.to_dict() for change in page.items],
            "next_before": page.next_before,
        }

    doc = run(load)
    if json_:
        print_json(doc)
        return
    groups = ", ".join(f"{g} {s}" for g, s in doc["group_scores"].items())
    console.print(
        f"[bold]{doc['email']}[/bold]: {doc['points']} points" + (f" ({groups})" if groups else "")
    )
    table = Table("when", "delta", "group", "reason")
    for ch in doc["changes"]:
        table.add_row(ch["created_at"][:19], f"{ch['delta']:+d}", ch["group"] or "", ch["reason"])
    console.print(table)


@app.command(
    "adjust",
    # DELTA may be negative (-5), which click would otherwise read as an unknown option.
    context_settings={"ignore_unknown_options": True},
)
def adjust_cmd(
    email: str,
    delta: str,
    reason: Annotated[str, typer.Option("--reason", help="Why, shown in the history.")],
    group: Annotated[
        str | None, typer.Option("--group", help="Adjust this group's score instead.")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Add DELTA points (negative to remove) to a contact by hand."""
    try:
        amount = int(delta)
    except ValueError as exc:
        fail(f"DELTA must be an integer, got {delta!r}", exc)

    async def go(c: CoreContainer) -> dict[str, Any]:
        contact = await c.contact_service().get_by_email(email)
        score = await c.points_service().adjust(contact.id, amount, reason, group=group)
        return {
            "contact_id": contact.id,
            "email": contact.email,
            "delta": amount,
            "group": group,
            "score": score,
        }

    doc = run(go)
    if json_:
        print_json(doc)
    else:
        where = f"group {group}" if group else "total"
        console.print(f"{doc['email']}: {amount:+d} → {where} {doc['score']}")


# -- groups -----------------------------------------------------------------------------------


@groups_app.command("list")
def groups_list(json_: JsonOpt = False) -> None:
    """List point groups."""
    groups = run(lambda c: c.points_service().list_groups())
    if json_:
        print_list(g.to_dict() for g in groups)
        return
    table = Table("id", "name", "description")
    for g in groups:
        table.add_row(str(g.id), g.name, g.description or "")
    console.print(table)


@groups_app.command("create")
def groups_create(
    name: str,
    description: Annotated[str | None, typer.Option(help="What the group scores.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Create a point group."""
    group = run(lambda c: c.points_service().create_group(name, description=description))
    if json_:
        print_json(group.to_dict())
    else:
        console.print(f"point group [bold]{group.name}[/bold] created")


# -- triggers ---------------------------------------------------------------------------------


@triggers_app.command("list")
def triggers_list(json_: JsonOpt = False) -> None:
    """List threshold triggers."""
    triggers = run(lambda c: c.points_service().list_triggers())
    if json_:
        print_list(t.to_dict() for t in triggers)
        return
    table = Table("id", "name", "threshold", "group", "published", "events")
    for t in triggers:
        table.add_row(
            str(t.id),
            t.name,
            str(t.threshold),
            t.group or "(total)",
            "yes" if t.published else "no",
            "; ".join(f"{e.type} {json.dumps(e.settings, ensure_ascii=False)}" for e in t.events),
        )
    console.print(table)


@triggers_app.command("create")
def triggers_create(
    name: Annotated[str, typer.Option("--name", help="The trigger's name.")],
    threshold: Annotated[int, typer.Option("--threshold", help="Score at which it fires.")],
    events_json: Annotated[
        str,
        typer.Option(
            "--events-json",
            help='Events in order, e.g. [{"type":"contact.add_tag","settings":{"tag":"hot"}}].',
        ),
    ],
    group: Annotated[
        str | None, typer.Option("--group", help="Watch this group's score, not the total.")
    ] = None,
    apply_existing: Annotated[
        bool, typer.Option("--apply-existing", help="Fire now for contacts already there.")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Create a threshold trigger."""
    events = _json_arg(events_json, "--events-json")
    if not isinstance(events, list):
        fail("--events-json: expected a JSON list of events", ValidationError("events"))
    trigger = run(
        lambda c: c.points_service().create_trigger(
            name, threshold, events, group=group, apply_to_existing=apply_existing
        )
    )
    if json_:
        print_json(trigger.to_dict())
    else:
        console.print(f"trigger [bold]{trigger.id}[/bold] {trigger.name!r} created")
