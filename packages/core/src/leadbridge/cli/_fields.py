from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from ..contacts import FieldSpec, FieldType
from ._common import console, print_json, print_list, run

app = typer.Typer(help="Custom contact fields.", no_args_is_help=True)


def spec_dict(spec: FieldSpec) -> dict[str, object]:
    return {
        "alias": spec.alias,
        "label": spec.label,
        "type": spec.type.value,
        "options": list(spec.options) if spec.options is not None else None,
        "is_unique_identifier": spec.is_unique_identifier,
        "is_required": spec.is_required,
        "is_core": spec.is_core,
    }


@app.command("add")
def add_cmd(
    alias: str,
    type_: Annotated[
        str,
        typer.Option(
            "--type", metavar="TYPE", help="One of " + ", ".join(t.value for t in FieldType) + "."
        ),
    ],
    label: Annotated[str | None, typer.Option(help="Label shown to people.")] = None,
    options: Annotated[
        str | None, typer.Option(help="Comma-separated choices (select types).")
    ] = None,
    unique: Annotated[
        bool, typer.Option("--unique", help="A unique identifier for matching.")
    ] = False,
    required: Annotated[
        bool, typer.Option("--required", help="Every contact must have it.")
    ] = False,
    json_: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Define a custom field."""
    spec = run(
        lambda c: c.custom_field_service().define(
            alias,
            type_,
            label=label,
            options=options.split(",") if options else None,
            is_unique_identifier=unique,
            is_required=required,
        )
    )
    if json_:
        print_json(spec_dict(spec))
    else:
        console.print(f"field [bold]{spec.alias}[/bold] ({spec.type.value}) added")


@app.command("list")
def list_cmd(
    json_: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """List core and custom fields."""
    specs = run(lambda c: c.custom_field_service().all_fields())
    if json_:
        print_list(spec_dict(s) for s in specs.values())
        return
    table = Table("alias", "label", "type", "options", "unique", "required", "core")
    for s in specs.values():
        table.add_row(
            s.alias,
            s.label,
            s.type.value,
            ",".join(s.options or ()),
            "yes" if s.is_unique_identifier else "",
            "yes" if s.is_required else "",
            "yes" if s.is_core else "",
        )
    console.print(table)
