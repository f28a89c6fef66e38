"""``leadbridge sync``: run a sync with a progress bar, show where syncs stand, cancel one.

Integration names are resolved by the container's :class:`~leadbridge.sync.SyncService`
(``container.sync_service()``), the one place that turns a name into an exchange and a
mapping manual.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, date, datetime
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from ..container import CoreContainer
from ..sync import (
    IntegrationSyncStatus,
    SyncOptions,
    SyncProgress,
    SyncResult,
    SyncStatus,
    SyncTrigger,
)
from ..sync._engine import RUN_FAILED
from ._common import console, err_console, fail, print_json, print_list, run, state

app = typer.Typer(help="Sync integrations: run, status, cancel.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]

_COUNTERS = (
    "pulled",
    "created",
    "updated",
    "unchanged",
    "conflicts",
    "pushed",
    "failed",
    "skipped",
)


def _parse_since(value: str | None) -> datetime | None:
    if value is None:
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            d = date.fromisoformat(text)
            return datetime(d.year, d.month, d.day, tzinfo=UTC)
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        fail(f"--since {value!r}: expected a date YYYY-MM-DD or an ISO 8601 date-time")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class _CountColumn(ProgressColumn):
    """``done/total`` when the integration says how many to expect, ``done`` otherwise."""

    def render(self, task: Task) -> Text:
        done = f"{int(task.completed):,}"
        if task.total is None:
            return Text(done, style="progress.download")
        return Text(f"{done}/{int(task.total):,}", style="progress.download")


class _RateColumn(ProgressColumn):
    """Objects per second and API calls so far."""

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        rate = task.completed / elapsed if elapsed > 0 else 0.0
        calls = task.fields.get("api_calls", 0)
        return Text(f"{rate:,.0f}/s · {calls} API calls", style="progress.data.speed")


def _summary(result: SyncResult) -> Table:
    title = f"sync {result.integration}" + (" (dry run: nothing written)" if result.dry_run else "")
    table = Table("", "", title=title, show_header=False)
    table.add_row("status", result.status.value)
    for name, value in result.counters.to_dict().items():
        table.add_row(name.replace("_", " "), f"{value:,}")
    if result.error:
        table.add_row("error", result.error)
    return table


def _when(value: str | None) -> str:
    return value[:16].replace("T", " ") if value else ""


def _changes(doc: dict[str, Any]) -> str:
    return ", ".join(f"{k} {doc[k]:,}" for k in _COUNTERS if doc.get(k))


def _not_run_failure(record: logging.LogRecord) -> bool:
    return not getattr(record, RUN_FAILED, False)


@app.command("run")
def run_cmd(
    name: Annotated[str, typer.Argument(help="The integration to sync.")],
    full: Annotated[
        bool, typer.Option("--full", help="Ignore cursors: pull everything, push every contact.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would change; write nothing.")
    ] = False,
    since: Annotated[
        str | None,
        typer.Option("--since", metavar="DATE", help="Pull objects changed from this date."),
    ] = None,
    pull_only: Annotated[bool, typer.Option("--pull-only", help="Only pull.")] = False,
    push_only: Annotated[bool, typer.Option("--push-only", help="Only push.")] = False,
    ids: Annotated[
        str | None,
        typer.Option("--ids", metavar="ID,…", help="Only these integration ids (comma-separated)."),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Run a sync of NAME now: pull, then push. Exit status 1 when the run failed."""
    if pull_only and push_only:
        fail("choose --pull-only or --push-only, not both")
    options = SyncOptions(
        full=full,
        since=_parse_since(since),
        pull_only=pull_only,
        push_only=push_only,
        dry_run=dry_run,
        ids=frozenset(i.strip() for i in ids.split(",") if i.strip()) if ids else None,
    )

    async def body(c: CoreContainer) -> SyncResult:
        service = c.sync_service()
        if json_ or not err_console.is_terminal:
            return await service.start(name, options, SyncTrigger.CLI)
        progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            _CountColumn(),
            _RateColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=err_console,
            transient=True,
        )
        tasks: dict[str, Any] = {}

        def show(p: SyncProgress) -> None:
            key = f"{p.phase} {p.object}"
            if key not in tasks:
                tasks[key] = progress.add_task(key, total=p.total)
            progress.update(
                tasks[key], completed=p.done, total=p.total, api_calls=p.counters.api_calls
            )

        with progress:
            return await service.start(name, options, SyncTrigger.CLI, progress=show)

    started = time.monotonic()
    # A failure is reported below, once: not also by the engine's log line (--debug keeps it).
    sync_log = logging.getLogger("leadbridge.sync")
    if not state.debug:
        sync_log.addFilter(_not_run_failure)
    try:
        result = run(body)
    finally:
        sync_log.removeFilter(_not_run_failure)
    if json_:
        print_json(result.to_dict())
    else:
        console.print(_summary(result))
        console.print(
            f"run {result.run_id if result.run_id is not None else '-'} "
            f"{result.status.value} in {time.monotonic() - started:.1f}s"
        )
        failures = [f for f in result.failures if not f.skipped]
        for f in failures[:10]:
            console.print(
                f"  [yellow]{f.direction}[/yellow] {f.integration_id or f.contact_id}: {f.message}",
                highlight=False,
            )
        if result.counters.failed > 10:
            console.print(f"  … see `leadbridge sync status {name}` for all failures")
        if result.counters.skipped:
            console.print(
                f"{result.counters.skipped:,} skipped on purpose; "
                f"`leadbridge sync status {name} --skipped` lists them",
                highlight=False,
            )
    if result.status is SyncStatus.FAILED:
        fail(f"sync {name} failed: {result.error}")


def _cursor(value: str | None) -> Any:
    """A cursor as JSON: an integration's JSON cursor as the object it is, not as a string."""
    if value is None:
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        return value
    return parsed if isinstance(parsed, dict | list) else value


def _status_doc(status: IntegrationSyncStatus) -> dict[str, Any]:
    doc = status.to_dict()
    doc["cursors"] = {obj: _cursor(value) for obj, value in status.cursors.items()}
    return doc


def _error_cells(e: dict[str, Any]) -> tuple[str, ...]:
    """A failure or skipped object as table cells: run, direction, object, id, message."""
    label = e["integration_id"] or f"contact {e['contact_id']}"
    return f"#{e['run_id']}", e["direction"], e["object"], str(label), e["message"]


@app.command("status")
def status_cmd(
    name: Annotated[str | None, typer.Argument(help="One integration (default: all).")] = None,
    limit: Annotated[
        int, typer.Option(min=1, max=1000, metavar="N", help="Runs and errors shown.")
    ] = 10,
    skipped: Annotated[
        bool,
        typer.Option(
            "--skipped",
            help="List the objects NAME's syncs skipped on purpose (team members, "
            "unsupported records), newest first.",
        ),
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Where syncs stand: the running run, the last runs with their counters, failures."""
    if skipped and name is None:
        raise typer.BadParameter("name an integration to list what it skipped", param_hint="NAME")

    async def body(c: CoreContainer) -> dict[str, Any]:
        runs = c.sync_run_service()
        if skipped:
            found = await runs.errors(integration=name, limit=limit, skipped=True)
            return {"skipped": [e.to_dict() for e in found]}
        doc: dict[str, Any] = {"integrations": [_status_doc(s) for s in await runs.status(name)]}
        if name is not None:
            doc["runs"] = [r.to_dict() for r in await runs.runs(name, limit=limit)]
            failures = await runs.errors(integration=name, limit=limit, skipped=False)
            doc["errors"] = [e.to_dict() for e in failures]
        return doc

    doc = run(body)
    if skipped:
        _print_skipped(doc["skipped"], json_)
        return
    if json_:
        print_json(doc)
        return
    if not doc["integrations"]:
        console.print("no sync has run yet")
        return
    table = Table("integration", "running", "last run", "finished", "changes", "mapped", "errors")
    for s in doc["integrations"]:
        last = s["last_run"] or {}
        table.add_row(
            s["integration"],
            f"#{s['running_run_id']}" if s["running_run_id"] else "",
            f"#{last['id']} {last['status']}" if last else "",
            _when(last.get("finished_at")),
            _changes(last),
            f"{s['mapped']:,}",
            str(s["unresolved_errors"]),
        )
    console.print(table)
    if name is None:
        return
    runs = Table("run", "trigger", "status", "started", "changes", "error", title="runs")
    for r in doc["runs"]:
        runs.add_row(
            f"#{r['id']}",
            r["trigger"],
            r["status"],
            _when(r["started_at"]),
            _changes(r) + (f", api calls {r['api_calls']:,}" if r["api_calls"] else ""),
            r["error"] or "",
        )
    console.print(runs)
    if doc["errors"]:
        errors = Table("run", "dir", "object", "id", "message", title="errors")
        for e in doc["errors"]:
            errors.add_row(*_error_cells(e))
        console.print(errors)
    if any(r.get("skipped") for r in doc["runs"]):
        console.print(
            f"skipped objects: `leadbridge sync status {name} --skipped` lists them",
            highlight=False,
        )


def _print_skipped(items: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        print_list(items)
        return
    if not items:
        console.print("nothing was skipped")
        return
    table = Table("run", "dir", "object", "id", "reason", title="skipped")
    for e in items:
        table.add_row(*_error_cells(e))
    console.print(table)


@app.command("cancel")
def cancel_cmd(run_id: Annotated[int, typer.Argument(help="The running run.")]) -> None:
    """Ask a running run to stop after its current page (it may run in another process)."""
    run(lambda c: c.sync_run_service().cancel(run_id))
    console.print(f"run {run_id} will stop after its current page")
