from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ..contacts import CORE_FIELDS, Contact
from ..container import CoreContainer
from ._common import console, fail, print_json, run

app = typer.Typer(help="Contacts: add, show, list, import and export.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def _pairs(items: list[str], option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            fail(f"{option} {item!r}: expected alias=value")
        out[name.strip()] = value
    return out


def _show(contact: Contact) -> None:
    table = Table(show_header=False, box=None)
    for key, value in contact.to_dict().items():
        if key == "fields":
            for alias, v in sorted(value.items()):
                table.add_row(f"  {alias}", str(v))
        else:
            table.add_row(key, "" if value is None else str(value))
    console.print(table)


@app.command("add")
def add_cmd(
    email: str,
    first_name: Annotated[str | None, typer.Option()] = None,
    last_name: Annotated[str | None, typer.Option()] = None,
    company: Annotated[str | None, typer.Option()] = None,
    phone: Annotated[str | None, typer.Option()] = None,
    city: Annotated[str | None, typer.Option()] = None,
    country: Annotated[str | None, typer.Option()] = None,
    field: Annotated[
        list[str] | None, typer.Option("--field", help="alias=value, repeatable.")
    ] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Repeatable.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Add a contact."""
    core = {
        k: v
        for k, v in dict(
            first_name=first_name,
            last_name=last_name,
            company=company,
            phone=phone,
            city=city,
            country=country,
        ).items()
        if v is not None
    }
    fields = _pairs(field or [], "--field")
    contact = run(
        lambda c: c.contact_service().create(email, fields=fields, tags=tag or (), **core)
    )
    if json_:
        print_json(contact.to_dict())
    else:
        console.print(f"contact [bold]{contact.email}[/bold] added (id {contact.id})")


@app.command("show")
def show_cmd(email: str, json_: JsonOpt = False) -> None:
    """Show one contact by email."""
    contact = run(lambda c: c.contact_service().get_by_email(email))
    if json_:
        print_json(contact.to_dict())
    else:
        _show(contact)


@app.command("list")
def list_cmd(
    tag: Annotated[str | None, typer.Option(help="Only contacts with this tag.")] = None,
    segment: Annotated[
        str | None, typer.Option(help="Only members of this segment (alias).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 50,
    json_: JsonOpt = False,
) -> None:
    """List contacts, oldest first."""

    async def body(c: CoreContainer) -> list[Contact]:
        if segment is not None:
            provider = getattr(c, "segment_service", None)
            if provider is None:
                fail("segments are not available in this installation")
            page = await provider().members(segment, limit=limit)
            return list(page.items)
        return (await c.contact_service().list(limit=limit, tag=tag)).items

    contacts = run(body)
    if json_:
        print_json([x.to_dict() for x in contacts])
        return
    table = Table("id", "email", "first name", "last name", "company", "points", "tags")
    for x in contacts:
        table.add_row(
            str(x.id),
            x.email,
            x.first_name or "",
            x.last_name or "",
            x.company or "",
            str(x.points),
            ",".join(x.tags),
        )
    console.print(table)


def _read_csv(path: Path, known: set[str]) -> tuple[list[str], Iterator[dict[str, Any]]]:
    handle = path.open(newline="", encoding="utf-8-sig")
    reader = csv.DictReader(handle)
    columns = [c.strip() for c in (reader.fieldnames or [])]
    unknown = [c for c in columns if c not in known and c != "tags"]
    if unknown:
        handle.close()
        fail(f"{path}: unknown column {unknown[0]!r} (known: core fields and custom field aliases)")
    if "email" not in columns:
        handle.close()
        fail(f"{path}: an 'email' column is required")

    def rows() -> Iterator[dict[str, Any]]:
        with handle:
            for raw in reader:
                # A blank cell means "no value given", never "erase what is stored".
                yield {
                    k.strip(): v for k, v in raw.items() if k is not None and v not in (None, "")
                }

    return columns, rows()


@app.command("import")
def import_cmd(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    json_: JsonOpt = False,
) -> None:
    """Import (insert or update by email) contacts from a CSV file; all or nothing."""

    async def body(c: CoreContainer) -> dict[str, int]:
        known = set(await c.custom_field_service().all_fields())
        _cols, rows = _read_csv(path, known)
        result = await c.contact_service().bulk_upsert(rows, source="import", on_error="raise")
        return {"created": result.created, "updated": result.updated, "unchanged": result.unchanged}

    summary = run(body)
    if json_:
        print_json(summary)
    else:
        console.print(
            f"imported {path.name}: {summary['created']} created, {summary['updated']} updated, "
            f"{summary['unchanged']} unchanged"
        )


@app.command("export")
def export_cmd(
    path: Annotated[Path, typer.Argument(dir_okay=False)],
    tag: Annotated[str | None, typer.Option(help="Only contacts with this tag.")] = None,
) -> None:
    """Export contacts to a CSV file (core fields, custom fields, tags)."""

    async def body(c: CoreContainer) -> int:
        aliases = [a for a in await c.custom_field_service().all_fields() if a not in CORE_FIELDS]
        columns = [*CORE_FIELDS, *aliases, "tags"]
        count = 0
        service = c.contact_service()
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            after: int | None = None
            while True:
                page = await service.list(limit=1000, after=after, tag=tag)
                for x in page.items:
                    row: dict[str, Any] = {k: x.get(k) for k in CORE_FIELDS}
                    for a in aliases:
                        v = x.fields.get(a)
                        row[a] = ",".join(v) if isinstance(v, list) else v
                    row["tags"] = ",".join(x.tags)
                    writer.writerow(row)
                    count += 1
                if page.next_after is None:
                    return count
                after = page.next_after

    count = run(body)
    console.print(f"exported {count} contacts to {path}")
