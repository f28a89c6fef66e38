from __future__ import annotations

import json
from typing import Annotated

import typer

from ._integration import ExampleIntegration

example_app = typer.Typer(help="The Example CRM integration.", no_args_is_help=True)


@example_app.command("objects")
def objects_cmd(
    json_: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """List the objects the Example CRM syncs."""
    names = [o.name for o in ExampleIntegration().objects()]
    typer.echo(json.dumps(names) if json_ else "\n".join(names))


def register(app: typer.Typer) -> None:
    app.add_typer(example_app, name="example")
