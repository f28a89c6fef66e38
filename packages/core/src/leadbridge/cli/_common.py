"""What every command shares: the container, running coroutines, output and errors."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from .._errors import LeadBridgeError
from ..contacts import ContactImportInterruptedError
from ..container import CoreContainer, shutdown, start

T = TypeVar("T")

#: Exit status of an error that may pass when the command is run again (BSD's EX_TEMPFAIL):
#: a database locked by another writer, an import interrupted after committed batches.
EXIT_RETRY = 75
#: Exit status when standard output was closed by its reader (128 + SIGPIPE, as shells report).
EXIT_BROKEN_PIPE = 141

console = Console()
err_console = Console(stderr=True)


class State:
    debug: bool = False
    container: CoreContainer | None = None


state = State()


def container() -> CoreContainer:
    """The process's core container, started (:func:`leadbridge.start`)."""
    if state.container is None:
        state.container = CoreContainer()
    # Starting subscribes point actions to contact events, so that `contacts add`/`import`
    # award points like the SDK does. It loads the plugins: a broken one must not print a
    # warning before every command's output (`leadbridge integrations list` reports it).
    registry_log = logging.getLogger("leadbridge.integrations")
    level = registry_log.level
    registry_log.setLevel(logging.ERROR)
    try:
        start(state.container)
    finally:
        registry_log.setLevel(level)
    return state.container


def migration_locations() -> list[Path]:
    """Version locations of installed plugins."""
    from ..integrations import installed_migration_locations

    return installed_migration_locations()


def run(make: Callable[[CoreContainer], Coroutine[Any, Any, T]]) -> T:
    """Run an async command body with the container; errors become one line and exit 1."""

    async def main() -> T:
        c = container()
        try:
            return await make(c)
        finally:
            await shutdown(c)

    try:
        return asyncio.run(main())
    except ContactImportInterruptedError as exc:
        fail(str(exc), exc, code=EXIT_RETRY)
    except LeadBridgeError as exc:
        fail(str(exc), exc)
    except BrokenPipeError:
        # The reader went away (`leadbridge contacts export - | head`): stop quietly, as
        # a process killed by SIGPIPE would, and keep Python from complaining at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(EXIT_BROKEN_PIPE) from None
    except OSError as exc:
        fail(f"{type(exc).__name__}: {exc}", exc)
    except SQLAlchemyError as exc:
        message, code = _database_message(exc)
        fail(message, exc, code=code)


def _database_message(exc: SQLAlchemyError) -> tuple[str, int]:
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    if "no such table" in detail or ("relation" in detail and "does not exist" in detail):
        return f"the database is not migrated ({detail}): run `leadbridge db upgrade`", 1
    if "database is locked" in detail:
        return (
            "the database is busy: another process held SQLite's write lock past the busy "
            "timeout; run the command again"
        ), EXIT_RETRY
    return f"database error: {detail}", 1


def fail(message: str, exc: BaseException | None = None, *, code: int = 1) -> NoReturn:
    """Print one ``error:`` line on stderr and exit with ``code`` (the exception with --debug)."""
    if state.debug and exc is not None:
        raise exc
    err_console.print(f"[red]error:[/red] {message}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(code)


def print_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, default=str, ensure_ascii=False, indent=2) + "\n")


def print_list(items: Iterable[Any], next_cursor: str | None = None) -> None:
    """The JSON of every command that lists things: ``{"items": [...], "next_cursor": ...}``.

    ``next_cursor`` is null on the last page; otherwise pass it back with ``--after``.
    """
    print_json({"items": list(items), "next_cursor": next_cursor})


def gather(*aws: Awaitable[Any]) -> Awaitable[list[Any]]:
    return asyncio.gather(*aws)
