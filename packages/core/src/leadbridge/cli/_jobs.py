"""``leadbridge jobs``: the job queue (PostgreSQL): list, cancel, retry."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from ..container import CoreContainer
from ..jobs import QueuedJob
from ._common import console, print_json, print_list, run

app = typer.Typer(help="Queued jobs (PostgreSQL): list, cancel, retry.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
IdArg = Annotated[int, typer.Argument(help="The job's id.")]


def _line(job: QueuedJob) -> str:
    return f"job {job.id} {job.kind} {job.target or ''} {job.status.value}"


@app.command("list")
def list_cmd(
    status: Annotated[
        str | None,
        typer.Option(
            "--status", help="todo, doing, succeeded, failed, cancelled, aborting, aborted."
        ),
    ] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="sync, segments, prune, …")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Jobs shown.")] = 50,
    json_: JsonOpt = False,
) -> None:
    """Jobs, newest first, with their attempts and last error."""

    async def body(c: CoreContainer) -> list[QueuedJob]:
        return await c.job_queue().jobs(status=status, kind=kind, limit=limit)

    jobs = run(body)
    if json_:
        print_list(j.to_dict() for j in jobs)
        return
    if not jobs:
        console.print("no job")
        return
    table = Table("id", "kind", "target", "status", "attempts", "queue", "run", "last error")
    for j in jobs:
        table.add_row(
            str(j.id),
            j.kind,
            j.target or "",
            j.status.value,
            str(j.attempts),
            j.queue,
            f"#{j.run_id}" if j.run_id else "",
            j.last_error or "",
        )
    console.print(table)


def _act(job_id: int, json_: bool, cancel: bool) -> None:
    async def body(c: CoreContainer) -> QueuedJob:
        async with c.job_queue() as jobs:
            return await (jobs.cancel(job_id) if cancel else jobs.retry(job_id))

    job = run(body)
    if json_:
        print_json(job.to_dict())
    else:
        console.print(_line(job), highlight=False)


@app.command("cancel")
def cancel_cmd(job_id: IdArg, json_: JsonOpt = False) -> None:
    """Cancel a waiting job (a queued sync run ends cancelled); abort a running one."""
    _act(job_id, json_, cancel=True)


@app.command("retry")
def retry_cmd(job_id: IdArg, json_: JsonOpt = False) -> None:
    """Run a failed job again now (a sync resumes its run)."""
    _act(job_id, json_, cancel=False)
