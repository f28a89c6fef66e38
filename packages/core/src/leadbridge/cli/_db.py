from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from alembic.script import Script, ScriptDirectory
from rich.table import Table

from .. import db
from ..container import CoreContainer
from ._common import console, migration_locations, print_json, print_list, run

app = typer.Typer(help="Database migrations.", no_args_is_help=True)


def _applied(
    locations: list[Path], before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """Per branch that moved: where it was, where it is, its migrations applied in between."""
    script = ScriptDirectory.from_config(db.alembic_config(locations))
    moved = []
    for branch, now in sorted(after.items()):
        was = before.get(branch, {}).get("current")
        if now["current"] == was or now["current"] is None:
            continue
        # Down this branch only (down_revision, not the other branches it depends on).
        chain: list[str] = []
        rev: Script | None = script.get_revision(now["current"])
        while rev is not None and rev.revision != was:
            chain.append(rev.revision)
            down = rev.down_revision
            rev = script.get_revision(down) if isinstance(down, str) else None
        moved.append(
            {"branch": branch, "from": was, "to": now["current"], "migrations": chain[::-1]}
        )
    return moved


@app.command("upgrade")
def upgrade_cmd(
    revision: Annotated[
        str, typer.Argument(metavar="REVISION", help="Target revision (default: every head).")
    ] = "heads",
    json_: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Apply core's migrations and every installed plugin's branch, and say which."""
    locations = migration_locations()

    async def body(c: CoreContainer) -> list[dict[str, Any]]:
        before = await db.current(c.engine(), locations)
        await db.upgrade(c.engine(), locations, revision)
        return _applied(locations, before, await db.current(c.engine(), locations))

    applied = run(body)
    if json_:
        print_json({"applied": applied})
        return
    if not applied:
        console.print("[green]database is up to date[/green]: nothing to apply")
        return
    count = sum(len(a["migrations"]) for a in applied)
    console.print(f"[green]applied {count} migration{'s' if count != 1 else ''}[/green]")
    for a in applied:
        steps = f" ({', '.join(a['migrations'])})" if len(a["migrations"]) > 1 else ""
        console.print(
            f"  {a['branch']}: {a['from'] or 'empty'} → {a['to']}{steps}",
            highlight=False,
            soft_wrap=True,
        )


@app.command("current")
def current_cmd(
    json_: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Show where each migration branch stands."""
    locations = migration_locations()
    branches = run(lambda c: db.current(c.engine(), locations))
    if json_:
        print_list({"branch": b, **info} for b, info in sorted(branches.items()))
        return
    table = Table("branch", "current", "head", "up to date")
    for branch, info in sorted(branches.items()):
        table.add_row(
            branch, info["current"] or "-", info["head"], "yes" if info["up_to_date"] else "no"
        )
    console.print(table)
