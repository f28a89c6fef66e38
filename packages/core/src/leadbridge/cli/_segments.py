from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ..container import CoreContainer
from ..segments import RebuildResult, Segment
from ._common import console, fail, print_json, print_list, run

app = typer.Typer(
    help="Segments: filtered groups of contacts, rebuilt with set-based SQL.",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
FiltersOpt = Annotated[
    str | None,
    typer.Option(
        "--filters-json",
        help='A JSON list of {"glue","field","operator","value"}; @FILE reads it from a file.',
    ),
]


def _filters(raw: str | None) -> list[dict[str, Any]] | None:
    if raw is None:
        return None
    if raw.startswith("@"):
        try:
            raw = Path(raw[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            fail(f"--filters-json {raw}: {exc.strerror or exc}")
    try:
        filters = json.loads(raw)
    except json.JSONDecodeError as exc:
        fail(f"--filters-json is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")
    if not isinstance(filters, list):
        fail("--filters-json must be a JSON list of filters")
    return filters


def _show(segment: Segment) -> None:
    table = Table(show_header=False, box=None)
    for key, value in segment.to_dict().items():
        if key != "filters":
            table.add_row(key, "" if value is None else str(value))
    console.print(table)
    if segment.filters:
        filters = Table("glue", "field", "operator", "value", title="filters")
        for i, f in enumerate(segment.filters):
            value = f.get("value")
            filters.add_row(
                "" if i == 0 else f["glue"],
                f["field"],
                f["operator"],
                "" if value is None else json.dumps(value, ensure_ascii=False),
            )
        console.print(filters)


def _rebuilt(results: list[RebuildResult]) -> None:
    table = Table("segment", "added", "removed", "members", "seconds")
    for r in results:
        table.add_row(r.alias, str(r.added), str(r.removed), str(r.total), f"{r.seconds:.3f}")
    console.print(table)


@app.command("list")
def list_cmd(json_: JsonOpt = False) -> None:
    """List segments."""
    segments = run(lambda c: c.segment_service().list())
    if json_:
        print_list(s.to_dict() for s in segments)
        return
    table = Table("id", "alias", "name", "published", "filters", "members", "last built")
    for s in segments:
        table.add_row(
            str(s.id),
            s.alias,
            s.name,
            "yes" if s.is_published else "no",
            str(len(s.filters)),
            str(s.member_count),
            s.last_built_at.isoformat(timespec="seconds") if s.last_built_at else "never",
        )
    console.print(table)


@app.command("show")
def show_cmd(alias: str, json_: JsonOpt = False) -> None:
    """Show one segment and its filters."""
    segment = run(lambda c: c.segment_service().get_by_alias(alias))
    if json_:
        print_json(segment.to_dict())
    else:
        _show(segment)


@app.command("create")
def create_cmd(
    name: Annotated[str, typer.Option("--name", help="Shown to people.")],
    filters_json: FiltersOpt = None,
    alias: Annotated[str | None, typer.Option(help="Default: a slug of the name.")] = None,
    description: Annotated[str | None, typer.Option(help="What the segment is for.")] = None,
    unpublished: Annotated[
        bool, typer.Option("--unpublished", help="Create it unpublished.")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Create a segment (then run `segments rebuild ALIAS`)."""
    filters = _filters(filters_json) or []
    segment = run(
        lambda c: c.segment_service().create(
            name,
            alias=alias,
            filters=filters,
            description=description,
            is_published=not unpublished,
        )
    )
    if json_:
        print_json(segment.to_dict())
    else:
        console.print(f"segment [bold]{segment.alias}[/bold] created (id {segment.id})")


@app.command("update")
def update_cmd(
    alias: str,
    name: Annotated[str | None, typer.Option("--name", help="A new name, shown to people.")] = None,
    new_alias: Annotated[str | None, typer.Option("--alias", help="Rename the alias.")] = None,
    filters_json: FiltersOpt = None,
    description: Annotated[str | None, typer.Option(help="What the segment is for.")] = None,
    publish: Annotated[
        bool | None, typer.Option("--publish/--unpublish", help="Change publication.")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Change a segment's name, alias, filters, description or publication."""
    filters = _filters(filters_json)

    changes: dict[str, Any] = {"name": name, "alias": new_alias, "filters": filters}
    changes["is_published"] = publish
    if description is not None:  # absent: leave it as it is
        changes["description"] = description
    segment = run(lambda c: c.segment_service().update(alias, **changes))
    if json_:
        print_json(segment.to_dict())
    else:
        console.print(f"segment [bold]{segment.alias}[/bold] updated")


@app.command("delete")
def delete_cmd(alias: str) -> None:
    """Delete a segment and its memberships."""
    run(lambda c: c.segment_service().delete(alias))
    console.print(f"segment [bold]{alias}[/bold] deleted")


@app.command("rebuild")
def rebuild_cmd(
    alias: Annotated[str | None, typer.Argument(help="The segment to rebuild.")] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Every segment, referenced ones first.")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Rebuild a segment's members from its filters (or --all)."""
    if (alias is None) == (not all_):
        raise typer.BadParameter("give a segment ALIAS or --all, not both")

    async def body(c: CoreContainer) -> list[RebuildResult]:
        service = c.segment_service()
        if all_:
            return await service.rebuild_all()
        return [await service.rebuild(alias or "")]

    results = run(body)
    if json_:
        if all_:
            print_list(r.to_dict() for r in results)
        else:
            print_json(results[0].to_dict())
    else:
        _rebuilt(results)


def _manual(alias: str, emails: list[str], *, add: bool) -> int:
    async def body(c: CoreContainer) -> int:
        ids = [(await c.contact_service().get_by_email(e)).id for e in emails]
        service = c.segment_service()
        if add:
            return await service.add_contacts(alias, ids)
        return await service.remove_contacts(alias, ids)

    return run(body)


@app.command("add")
def add_cmd(alias: str, emails: list[str], json_: JsonOpt = False) -> None:
    """Add contacts by hand; rebuilds keep them."""
    changed = _manual(alias, emails, add=True)
    if json_:
        print_json({"alias": alias, "added": changed})
    else:
        console.print(f"{changed} contact(s) added to [bold]{alias}[/bold]")


@app.command("remove")
def remove_cmd(alias: str, emails: list[str], json_: JsonOpt = False) -> None:
    """Remove contacts by hand; rebuilds keep them out."""
    changed = _manual(alias, emails, add=False)
    if json_:
        print_json({"alias": alias, "removed": changed})
    else:
        console.print(f"{changed} contact(s) removed from [bold]{alias}[/bold]")


@app.command("fields")
def fields_cmd(json_: JsonOpt = False) -> None:
    """List what segments can filter on, with the operators each allows."""
    fields = run(lambda c: c.segment_service().dictionary())
    if json_:
        print_list(f.to_dict() for f in fields)
        return
    table = Table("field", "label", "type", "group", "operators", "choices")
    for f in fields:
        table.add_row(
            f.key, f.label, f.type.value, f.group, " ".join(f.operators), ",".join(f.choices or ())
        )
    console.print(table)
