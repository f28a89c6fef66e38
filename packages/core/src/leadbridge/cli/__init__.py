"""The ``leadbridge`` command, and the helpers a plugin's commands use.

Plugins add sub-commands through the ``leadbridge.cli`` entry point group (each entry point
names a callable ``register(app: typer.Typer) -> None``) or through their container's ``cli``
provider. Their commands share core's output and error conventions through the helpers here:

- :func:`container` — the process's :class:`~leadbridge.CoreContainer` (built on first use);
- :func:`run` — run an ``async def body(container)``; a :class:`~leadbridge.LeadBridgeError`
  becomes one line on standard error and exit status 1 (75 when retrying may pass);
- :func:`fail` — print one error line and exit (tracebacks only with ``--debug``);
- :func:`print_json` / :func:`print_list` — ``--json`` output (a list prints as
  ``{"items": [...], "next_cursor": ...}``);
- :data:`console` / :data:`err_console` — Rich consoles on standard output and error.
"""

from __future__ import annotations

from ._app import _load_plugins as _load_plugins  # for tests that build the full CLI
from ._app import app, main
from ._common import console, container, err_console, fail, print_json, print_list, run

__all__ = [
    "app",
    "console",
    "container",
    "err_console",
    "fail",
    "main",
    "print_json",
    "print_list",
    "run",
]
