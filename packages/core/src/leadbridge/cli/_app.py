"""The ``leadbridge`` Typer application, its root options and the loading of plugins' commands."""

from __future__ import annotations

import logging
import os
from importlib.metadata import entry_points
from typing import Annotated

import typer

from .._errors import ConfigurationError
from ..observability import LOG_FORMAT_ENV, configure_logging
from ._common import err_console, state
from ._contacts import app as contacts_app
from ._db import app as db_app
from ._fields import app as fields_app
from ._help import HelpGroup
from ._integrations import app as integrations_app
from ._jobs import app as jobs_app
from ._points import app as points_app
from ._schedules import app as schedules_app
from ._segments import app as segments_app
from ._sync import app as sync_app
from ._tokens import app as tokens_app
from ._worker import worker_cmd

app = typer.Typer(
    name="leadbridge",
    help="LeadBridge: contacts, integrations, sync, segments and points.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=HelpGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Shell completion: `leadbridge --install-completion` (bash, zsh, fish, PowerShell).",
)
app.add_typer(db_app, name="db")
app.add_typer(contacts_app, name="contacts")
app.add_typer(fields_app, name="fields")
app.add_typer(integrations_app, name="integrations")
app.add_typer(segments_app, name="segments")
app.add_typer(sync_app, name="sync")
app.add_typer(points_app, name="points", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")
app.add_typer(schedules_app, name="schedules")
app.add_typer(jobs_app, name="jobs")
app.command("worker")(worker_cmd)


def _versions() -> list[tuple[str, str]]:
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for dist in ("leadbridge-core", "leadbridge-livestorm", "leadbridge-gateway"):
        try:
            out.append((dist, version(dist)))
        except PackageNotFoundError:
            continue
    return out


def _version_callback(value: bool) -> None:
    if value:
        for dist, ver in _versions():
            typer.echo(f"{dist} {ver}")
        raise typer.Exit()


@app.callback()
def root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version_callback, is_eager=True, help="Show versions."),
    ] = False,
) -> None:
    state.debug = debug
    try:
        level = logging.DEBUG if debug else logging.WARNING
        configure_logging(level, os.environ.get(LOG_FORMAT_ENV))
    except ConfigurationError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc


_plugins_loaded = False


def _load_plugins() -> None:
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    from ..integrations import installed_cli_registrars, parse_plugins

    # Integration plugins' ``cli`` providers; a broken one is reported by `integrations list`.
    for name, register_cli in installed_cli_registrars(
        parse_plugins(os.environ.get("LEADBRIDGE_PLUGINS"))
    ):
        try:
            register_cli(app)
        except Exception as exc:
            err_console.print(
                f"[yellow]warning:[/yellow] integration {name!r} failed to add its commands: {exc}"
            )
    for ep in entry_points(group="leadbridge.cli"):
        try:
            register = ep.load()
            register(app)
        except Exception as exc:  # a broken plugin must not take the CLI down
            err_console.print(
                f"[yellow]warning:[/yellow] CLI plugin {ep.name!r} failed to load: {exc}"
            )


def main() -> None:
    _load_plugins()
    app()
