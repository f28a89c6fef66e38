"""``leadbridge schedules``: jobs that run by themselves, on a cron expression."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from ..container import CoreContainer
from ..jobs import Schedule
from ._common import console, print_json, print_list, run

app = typer.Typer(help="Schedules: syncs, segment rebuilds, pruning on cron.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
IdArg = Annotated[int, typer.Argument(help="The schedule's id.")]


def _show(schedule: Schedule, json_: bool, verb: str) -> None:
    if json_:
        print_json(schedule.to_dict())
    else:
        console.print(
            f"schedule {schedule.id} {verb}: {schedule.kind} {schedule.target or ''} "
            f"'{schedule.cron}' ({schedule.timezone}), next {schedule.next_due_at:%Y-%m-%d %H:%M}"
            f" UTC{'' if schedule.enabled else ', paused'}",
            highlight=False,
        )


@app.command("add")
def add_cmd(
    kind: Annotated[str, typer.Argument(help="sync, segments, prune, or a plugin's job kind.")],
    target: Annotated[
        str | None,
        typer.Argument(help="sync: the integration; segments: an alias (none: all)."),
    ] = None,
    cron: Annotated[
        str, typer.Option("--cron", help="Five-field cron expression, e.g. '*/15 * * * *'.")
    ] = "",
    tz: Annotated[str, typer.Option("--tz", help="Time zone the cron is read in.")] = "UTC",
    json_: JsonOpt = False,
) -> None:
    """Add a schedule: `schedules add sync NAME --cron EXPR`, `schedules add segments [ALIAS]
    --cron EXPR`, `schedules add prune --cron EXPR`."""
    schedule = run(lambda c: c.schedule_service().add(kind, target, cron, timezone=tz))
    _show(schedule, json_, "added")


@app.command("list")
def list_cmd(json_: JsonOpt = False) -> None:
    """Every schedule, with its next and last firing and what it did."""
    schedules: list[Schedule] = run(lambda c: c.schedule_service().list())
    if json_:
        print_list(s.to_dict() for s in schedules)
        return
    if not schedules:
        console.print("no schedule yet: `leadbridge schedules add sync NAME --cron '0 * * * *'`")
        return
    table = Table("id", "kind", "target", "cron", "tz", "on", "next", "last", "outcome")
    for s in schedules:
        table.add_row(
            str(s.id),
            s.kind,
            s.target or "",
            s.cron,
            s.timezone,
            "yes" if s.enabled else "paused",
            f"{s.next_due_at:%Y-%m-%d %H:%M}",
            f"{s.last_fired_at:%Y-%m-%d %H:%M}" if s.last_fired_at else "",
            s.last_outcome or "",
        )
    console.print(table)


@app.command("remove")
def remove_cmd(schedule_id: IdArg, json_: JsonOpt = False) -> None:
    """Delete a schedule."""

    async def body(c: CoreContainer) -> dict[str, Any]:
        await c.schedule_service().remove(schedule_id)
        return {"id": schedule_id, "removed": True}

    doc = run(body)
    if json_:
        print_json(doc)
    else:
        console.print(f"schedule {schedule_id} removed")


@app.command("pause")
def pause_cmd(schedule_id: IdArg, json_: JsonOpt = False) -> None:
    """Stop a schedule from firing (it keeps its settings)."""
    _show(run(lambda c: c.schedule_service().pause(schedule_id)), json_, "paused")


@app.command("resume")
def resume_cmd(schedule_id: IdArg, json_: JsonOpt = False) -> None:
    """Let a paused schedule fire again, from its next time."""
    _show(run(lambda c: c.schedule_service().resume(schedule_id)), json_, "resumed")
