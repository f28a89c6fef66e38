from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from ..contacts import (
    CORE_FIELDS,
    Contact,
    ContactCsvImport,
    ContactImportPhase,
    ContactImportProgress,
    ContactImportResult,
    ContactPage,
    export_contacts_csv,
)
from ..contacts._csv_import import DEFAULT_BATCH_SIZE
from ..contacts._csv_reader import DEFAULT_ENCODING
from ..container import CoreContainer
from ._common import console, err_console, fail, print_json, print_list, run

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
                shown = ", ".join(map(str, v)) if isinstance(v, list) else str(v)
                table.add_row(f"  {alias}", shown)
        elif key == "tags":
            table.add_row(key, ", ".join(value))
        else:
            table.add_row(key, "" if value is None else str(value))
    console.print(table)


@app.command("add")
def add_cmd(
    email: str,
    first_name: Annotated[str | None, typer.Option(metavar="TEXT", help="First name.")] = None,
    last_name: Annotated[str | None, typer.Option(metavar="TEXT", help="Last name.")] = None,
    company: Annotated[str | None, typer.Option(metavar="TEXT", help="Company name.")] = None,
    phone: Annotated[str | None, typer.Option(metavar="TEXT", help="Phone number.")] = None,
    city: Annotated[str | None, typer.Option(metavar="TEXT", help="City.")] = None,
    country: Annotated[str | None, typer.Option(metavar="TEXT", help="Country.")] = None,
    field: Annotated[
        list[str] | None,
        typer.Option("--field", metavar="ALIAS=VALUE", help="A custom field's value."),
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", metavar="TAG", help="A tag to add.")
    ] = None,
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


def _cursor_id(cursor: str | None) -> int | None:
    """The contact id a ``contacts list`` cursor stands for."""
    if cursor is None:
        return None
    if not cursor.isdigit() or int(cursor) >= 2**63:
        fail(f"--after {cursor!r}: not a cursor from `contacts list --json`")
    return int(cursor)


@app.command("list")
def list_cmd(
    tag: Annotated[
        str | None, typer.Option(metavar="TAG", help="Only contacts with this tag.")
    ] = None,
    segment: Annotated[
        str | None, typer.Option(metavar="ALIAS", help="Only members of this segment.")
    ] = None,
    limit: Annotated[
        int, typer.Option(min=1, max=10000, metavar="N", help="Contacts per page.")
    ] = 50,
    after: Annotated[
        str | None,
        typer.Option(
            metavar="CURSOR",
            help="Start after this cursor: the next_cursor of the previous page's --json.",
        ),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """List contacts, oldest first, a page at a time."""
    after_id = _cursor_id(after)

    async def body(c: CoreContainer) -> ContactPage:
        if segment is not None:
            return await c.segment_service().members(segment, limit=limit, after=after_id)
        return await c.contact_service().list(limit=limit, after=after_id, tag=tag)

    page = run(body)
    next_cursor = str(page.next_after) if page.next_after is not None else None
    if json_:
        print_list((x.to_dict() for x in page.items), next_cursor)
        return
    table = Table("id", "email", "first name", "last name", "company", "points", "tags")
    for x in page.items:
        table.add_row(
            str(x.id),
            x.email,
            x.first_name or "",
            x.last_name or "",
            x.company or "",
            str(x.points),
            ", ".join(x.tags),
        )
    console.print(table)
    if next_cursor is not None:
        err_console.print(f"more contacts: add --after {next_cursor}", highlight=False)


_PHASE_LABELS = {ContactImportPhase.CHECK: "checking", ContactImportPhase.WRITE: "writing"}


@contextmanager
def _progress_bar(name: str, *, show: bool) -> Iterator[ContactImportProgress | None]:
    """A bar per pass on standard error, with bytes read and the time left (terminals only:
    piped output and ``--json`` stay clean)."""
    if not show:
        yield None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as bar:
        tasks: dict[ContactImportPhase, TaskID] = {}

        def report(phase: ContactImportPhase, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(f"{_PHASE_LABELS[phase]} {name}", total=total)
            bar.update(tasks[phase], completed=done)

        yield report


@app.command("import")
def import_cmd(
    path: Annotated[
        Path,
        typer.Argument(
            metavar="FILE", exists=True, dir_okay=False, readable=True, show_default=False
        ),
    ],
    encoding: Annotated[
        str,
        typer.Option(
            metavar="NAME",
            help="The file's text encoding, such as latin-1 or cp1252 (default: UTF-8, with or "
            "without a byte-order mark).",
            show_default=False,
        ),
    ] = DEFAULT_ENCODING,
    batch_size: Annotated[
        int,
        typer.Option(
            min=1, max=100_000, metavar="ROWS", help="Rows written per committed transaction."
        ),
    ] = DEFAULT_BATCH_SIZE,
    check: Annotated[
        bool, typer.Option("--check", help="Validate the whole file; write nothing.")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Insert or update contacts (matched by email) from a CSV file.

    The whole file is validated first and refused, naming the lines, when any row is
    wrong; nothing is written then. It is then written in committed batches, so other
    writers are not locked out for the length of a large file. On a terminal, a bar per
    pass shows how far it has read and the time left.
    """

    async def body(c: CoreContainer) -> ContactImportResult:
        # Reads go through read-only sessions: the import waits for SQLite's write lock only
        # to write a batch.
        importer = ContactCsvImport(
            c.contact_service(), c.read_session_factory(), batch_size=batch_size
        )
        with _progress_bar(path.name, show=err_console.is_terminal and not json_) as progress:
            if check:
                rows = await importer.check(
                    path, encoding=encoding, source=path.name, progress=progress
                )
                return ContactImportResult(rows=rows)
            return await importer.run(path, encoding=encoding, source=path.name, progress=progress)

    result = run(body)
    summary = result.to_dict()
    if json_:
        print_json(summary)
    elif check:
        console.print(f"{path.name}: {result.rows:,} rows are valid; nothing was written")
    else:
        console.print(
            f"imported {path.name}: {result.created:,} created, {result.updated:,} updated, "
            f"{result.unchanged:,} unchanged"
        )


@app.command("export")
def export_cmd(
    path: Annotated[
        str,
        typer.Argument(metavar="FILE", help="Where to write; - writes to standard output."),
    ],
    tag: Annotated[
        str | None, typer.Option(metavar="TAG", help="Only contacts with this tag.")
    ] = None,
    formula_guard: Annotated[
        bool,
        typer.Option(
            "--formula-guard/--raw",
            help="Prefix text starting with = + - @ tab or CR with ' so spreadsheets do not "
            "run it as a formula; --raw writes stored text unchanged, for programs.",
        ),
    ] = True,
) -> None:
    """Export contacts as CSV: core fields, custom fields and tags."""

    async def body(c: CoreContainer, out: TextIO) -> int:
        aliases = [a for a in await c.custom_field_service().all_fields() if a not in CORE_FIELDS]
        return await export_contacts_csv(
            c.contact_service(), aliases, out, tag=tag, formula_guard=formula_guard
        )

    if path == "-":
        count = run(lambda c: body(c, sys.stdout))
    else:
        with Path(path).open("w", newline="", encoding="utf-8") as out:
            count = run(lambda c: body(c, out))
    if path == "-":
        sys.stdout.flush()
        err_console.print(f"exported {count:,} contacts")
    else:
        console.print(f"exported {count:,} contacts to {path}")
