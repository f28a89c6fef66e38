"""Credentials for ``integrations configure``, read without putting them on the command line.

A value given as ``--secret KEY=VALUE`` is visible to every user of the machine in ``ps`` (and
stays in shell history) while the command runs. The prompt (``--secret KEY``), an environment
variable (``--secret-from-env KEY=VARIABLE``) and standard input (``--secret-stdin KEY``) are
not; the first is what the README recommends to people, the other two to scripts.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import typer

from ._common import err_console


def split_pair(text: str, option: str) -> tuple[str, str | None]:
    """``KEY=VALUE`` as ``(KEY, VALUE)``; ``KEY`` alone as ``(KEY, None)``."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not key:
        raise typer.BadParameter(f"expected KEY=VALUE, got {text!r}", param_hint=option)
    return key, value if sep else None


def _non_blank(key: str, value: str, where: str) -> str:
    # Nothing is ever authenticated against an empty key: refuse it here, naming the source.
    if not value.strip():
        raise typer.BadParameter(f"the value of {key!r} from {where} is empty", param_hint=where)
    return value


def read_secrets(
    given: Sequence[str], from_env: Sequence[str], stdin_key: str | None
) -> dict[str, str]:
    """The credentials named by ``--secret``, ``--secret-from-env`` and ``--secret-stdin``."""
    secrets: dict[str, str] = {}
    on_command_line = []
    for text in given:
        key, value = split_pair(text, "--secret")
        if value is None:
            value = typer.prompt(key, hide_input=True, err=True)
        else:
            on_command_line.append(key)
        secrets[key] = _non_blank(key, value, "--secret")
    for text in from_env:
        key, variable = split_pair(text, "--secret-from-env")
        if not variable:
            raise typer.BadParameter(
                f"expected KEY=VARIABLE, got {text!r}", param_hint="--secret-from-env"
            )
        if variable not in os.environ:
            raise typer.BadParameter(
                f"environment variable {variable} is not set", param_hint="--secret-from-env"
            )
        secrets[key] = _non_blank(key, os.environ[variable], f"${variable}")
    if stdin_key is not None:
        line = sys.stdin.readline()
        secrets[stdin_key.strip()] = _non_blank(
            stdin_key, line.removesuffix("\n").removesuffix("\r"), "--secret-stdin"
        )
    warn_on_command_line(on_command_line)
    return secrets


def warn_on_command_line(keys: Sequence[str]) -> None:
    """Say that credentials ``keys`` were typed where ``ps`` and shell history show them."""
    if keys:
        err_console.print(
            f"[yellow]warning:[/yellow] {', '.join(keys)} given on the command line, where ps "
            "and shell history show it; prefer --secret KEY (prompt), --secret-from-env or "
            "--secret-stdin",
            highlight=False,
            soft_wrap=True,
        )
