from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from .. import db
from ._common import console, migration_locations, print_json, run

app = typer.Typer(help="Database migrations.", no_args_is_help=True)


@app.command("upgrade")
def upgrade_cmd(
    revision: Annotated[
        str, typer.Argument(help="Target revision (default: every head).")
    ] = "heads",
) -> None:
    """Apply core's migrations and every installed plugin's branch."""
    locations = migration_locations()
    run(lambda c: db.upgrade(c.engine(), locations, revision))
    console.print("[green]database is up to date[/green]")


@app.command("current")
def current_cmd(json_: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Show where each migration branch stands."""
    locations = migration_locations()
    branches = run(lambda c: db.current(c.engine(), locations))
    if json_:
        print_json([{"branch": b, **info} for b, info in sorted(branches.items())])
        return
    table = Table("branch", "current", "head", "up to date")
    for branch, info in sorted(branches.items()):
        table.add_row(
            branch, info["current"] or "-", info["head"], "yes" if info["up_to_date"] else "no"
        )
    console.print(table)
