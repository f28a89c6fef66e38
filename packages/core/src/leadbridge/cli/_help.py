"""Help pages in the style of gh and stripe: plain text, value names, whole sentences.

Typer's own pages show Python types (``<bool>``, ``<list[str]>``), braces around required
arguments in usage lines and keep a docstring's line breaks. :class:`HelpGroup` (the root
command's class) renders every page itself, and hands its own class on to the sub-commands it
resolves, plugins' included, so one class covers the whole tree.
"""

from __future__ import annotations

import enum
import inspect
from datetime import date, datetime
from pathlib import Path
from typing import Any

from typer.core import TyperCommand, TyperGroup

#: Value names by annotation, for options without a metavar of their own.
_VALUE_NAMES: dict[Any, str] = {
    int: "N",
    float: "NUMBER",
    Path: "PATH",
    datetime: "DATE",
    date: "DATE",
}


def _annotation(param: Any) -> Any:
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is not None:
        return getattr(descriptor, "annotation", None)
    return None


def _choices(param: Any) -> tuple[str, ...]:
    descriptor = getattr(param, "type_descriptor", None)
    found = getattr(descriptor, "choices", None) if descriptor is not None else None
    found = found or getattr(getattr(param, "type", None), "choices", None) or ()
    return tuple(c.value if isinstance(c, enum.Enum) else str(c) for c in found)


def value_name(param: Any) -> str | None:
    """What follows an option in help (``--limit N``); ``None`` for a flag."""
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        return None
    if param.metavar:
        return str(param.metavar)
    if choices := _choices(param):
        return "|".join(choices)
    annotation = _annotation(param)
    args = getattr(annotation, "__args__", None) or ()
    for candidate in (annotation, *args):
        if candidate in _VALUE_NAMES:
            return _VALUE_NAMES[candidate]
    type_name = getattr(getattr(param, "type", None), "name", "")
    return {"integer": "N", "float": "NUMBER", "path": "PATH"}.get(type_name, "TEXT")


def argument_name(param: Any) -> str:
    return str(param.metavar or param.name.upper())


def _extras(param: Any) -> list[str]:
    extras: list[str] = []
    if getattr(param, "multiple", False):
        extras.append("repeatable")
    low = getattr(param, "min", None)
    high = getattr(param, "max", None)
    if low is not None and high is not None:
        extras.append(f"{low} to {high}")
    elif low is not None:
        extras.append(f"at least {low}")
    elif high is not None:
        extras.append(f"at most {high}")
    default = param.default
    shown = getattr(param, "show_default", True)
    if (
        shown is not False
        and not getattr(param, "is_flag", False)
        and default not in (None, "", (), [])
        and not callable(default)
        and "default" not in (param.help or "").lower()
    ):
        extras.append(f"default: {shown if isinstance(shown, str) else default}")
    return extras


def _param_help(param: Any) -> str:
    text = " ".join((param.help or "").split())
    extras = _extras(param)
    return f"{text} ({'; '.join(extras)})" if extras else text


def _usage(command: Any, ctx: Any) -> str:
    pieces = [ctx.command_path]
    if isinstance(command, TyperGroup):
        pieces.append("COMMAND")
    for param in command.get_params(ctx):
        if param.param_type_name != "argument" or getattr(param, "hidden", False):
            continue
        name = argument_name(param) + ("..." if param.nargs != 1 else "")
        pieces.append(name if param.required else f"[{name}]")
    pieces.append("[OPTIONS]")
    return " ".join(pieces)


def _option_label(param: Any) -> str:
    names = sorted(param.opts, key=len)
    label = ", ".join(names)
    if param.secondary_opts:
        label += " / " + ", ".join(param.secondary_opts)
    value = value_name(param)
    return f"{label} {value}" if value else label


def _short(command: Any) -> str:
    text = command.short_help or inspect.cleandoc(command.help or "").split("\n\n")[0]
    return " ".join(text.split())


def format_page(command: Any, ctx: Any, formatter: Any) -> None:
    """Write ``command``'s help page: description, usage, arguments, options, commands."""
    text = inspect.cleandoc(command.help or "")
    if text:
        formatter.write_text(text)
        formatter.write_paragraph()
    formatter.write_text(f"Usage: {_usage(command, ctx)}")
    params = [p for p in command.get_params(ctx) if not getattr(p, "hidden", False)]
    arguments = [
        (argument_name(p), _param_help(p))
        for p in params
        if p.param_type_name == "argument" and p.help
    ]
    options = [(_option_label(p), _param_help(p)) for p in params if p.param_type_name == "option"]
    for title, rows in (("Arguments", arguments), ("Options", options)):
        if rows:
            with formatter.section(title):
                formatter.write_dl(rows, col_max=34)
    if isinstance(command, TyperGroup):
        commands = []
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                commands.append((name, _short(sub)))
        if commands:
            with formatter.section("Commands"):
                formatter.write_dl(commands, col_max=34)
            formatter.write_paragraph()
            formatter.write_text(
                f"Run `{ctx.command_path} COMMAND --help` for a command's options."
            )
    if command.epilog:
        formatter.write_paragraph()
        formatter.write_text(inspect.cleandoc(command.epilog))


class HelpCommand(TyperCommand):
    """A command whose help page is :func:`format_page`'s."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        format_page(self, ctx, formatter)


class HelpGroup(TyperGroup):
    """A group whose help page is :func:`format_page`'s; it hands its class and
    :class:`HelpCommand` on to the sub-commands it resolves (plugins' too)."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        format_page(self, ctx, formatter)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if isinstance(command, TyperGroup) and not isinstance(command, HelpGroup):
            command.__class__ = HelpGroup
        elif isinstance(command, TyperCommand) and not isinstance(command, HelpCommand):
            command.__class__ = HelpCommand
        return command
