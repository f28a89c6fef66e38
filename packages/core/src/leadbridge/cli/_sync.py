"""``leadbridge sync``: run a sync with a progress bar, show where syncs stand, cancel one.

Integration names are resolved by the container's :class:`~leadbridge.sync.SyncService`
(``container.sync_service()``), the one place that turns a name into an exchange and a
mapping manual.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from ..container import CoreContainer
from ..sync import SyncOptions, SyncProgress, SyncResult, SyncRun, SyncStatus, SyncTrigger
from ._common import console, err_console, fail, print_json, run

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
        str | None, typer.Option("--since", help="Pull objects changed from this date.")
    ] = None,
    pull_only: Annotated[bool, typer.Option("--pull-only", help="Only pull.")] = False,
    push_only: Annotated[bool, typer.Option("--push-only", help="Only push.")] = False,
    ids: Annotated[
        str | None,
        typer.Option("--ids", help="Only these integration ids (comma-separated)."),
    ] = None,
    defer: Annotated[
        bool, typer.Option("--defer", help="Queue it for a worker (PostgreSQL) and return.")
    ] = False,
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

    if defer:
        _defer(name, options, json_)
        return

    async def body(c: CoreContainer) -> SyncResult:
        service = c.sync_service()
        if json_ or not err_console.is_terminal:
            return await service.start(name, options, SyncTrigger.CLI)
        progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            _RateColumn(),
            TimeElapsedColumn(),
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
    result = run(body)
    if json_:
        print_json(result.to_dict())
    else:
        console.print(_summary(result))
        console.print(
            f"run {result.run_id if result.run_id is not None else '-'} "
            f"{result.status.value} in {time.monotonic() - started:.1f}s"
        )
        for f in result.failures[:10]:
            console.print(
                f"  [yellow]{f.direction}[/yellow] {f.integration_id or f.contact_id}: {f.message}",
                highlight=False,
            )
        if result.counters.failed > 10:
            console.print(f"  … see `leadbridge sync status {name}` for all failures")
    if result.status is SyncStatus.FAILED:
        fail(f"sync {name} failed: {result.error}")


def _defer(name: str, options: SyncOptions, json_: bool) -> None:
    async def body(c: CoreContainer) -> SyncRun:
        queue = c.job_queue()
        queue.require()  # before resolving: on SQLite the answer is the same for every name
        await c.sync_service().target(name)
        async with queue:
            return await queue.defer_sync(name, options, SyncTrigger.CLI)

    queued = run(body)
    if json_:
        print_json({"run_id": queued.id, **queued.to_dict()})
    else:
        console.print(f"run {queued.id} of {name} {queued.status.value}: a worker will run it")


@app.command("status")
def status_cmd(
    name: Annotated[str | None, typer.Argument(help="One integration (default: all).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Runs and errors shown.")] = 10,
    json_: JsonOpt = False,
) -> None:
    """Where syncs stand: the running run, the last runs with their counters, errors."""

    async def body(c: CoreContainer) -> dict[str, Any]:
        runs = c.sync_run_service()
        doc: dict[str, Any] = {"integrations": [s.to_dict() for s in await runs.status(name)]}
        if name is not None:
            doc["runs"] = [r.to_dict() for r in await runs.runs(name, limit=limit)]
            doc["errors"] = [e.to_dict() for e in await runs.errors(integration=name, limit=limit)]
        return doc

    doc = run(body)
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
            errors.add_row(
                f"#{e['run_id']}",
                e["direction"],
                e["object"],
                e["integration_id"] or f"contact {e['contact_id']}",
                e["message"],
            )
        console.print(errors)


@app.command("cancel")
def cancel_cmd(run_id: Annotated[int, typer.Argument(help="The running run.")]) -> None:
    """Ask a running run to stop after its current page (it may run in another process)."""
    run(lambda c: c.sync_run_service().cancel(run_id))
    console.print(f"run {run_id} will stop after its current page")
