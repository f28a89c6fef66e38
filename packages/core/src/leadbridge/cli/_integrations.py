from __future__ import annotations

import json
import types
from datetime import UTC, date, datetime
from typing import Annotated, Any, Union, get_args, get_origin

import pydantic
import typer
from rich.table import Table

from ..container import CoreContainer
from ..integrations import (
    BaseIntegration,
    ConflictWinner,
    Direction,
    FieldMapping,
    IntegrationSettings,
    LoadedIntegration,
)
from ._common import console, print_json, print_list, run
from ._secrets import read_secrets, split_pair, warn_on_command_line

app = typer.Typer(
    help="Integrations: installed plugins, settings, credentials and field mappings.",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def _features(integration: BaseIntegration) -> list[str]:
    return sorted(f.value for f in integration.features)


def _show_doc(loaded: LoadedIntegration, settings: IntegrationSettings) -> dict[str, Any]:
    integration = loaded.integration
    return {
        "name": loaded.name,
        "display_name": integration.display_name,
        "description": integration.description,
        "features": _features(integration),
        **settings.to_dict(),
        "credential_fields": list(integration.credentials_schema.model_fields),
        "objects": [
            {
                "name": o.name,
                "label": o.label,
                "fields": [
                    {
                        "name": f.name,
                        "label": f.label,
                        "type": f.type.value,
                        "required": f.required,
                        "unique_identifier": f.unique_identifier,
                        "directions": sorted(d.value for d in f.directions),
                    }
                    for f in o.fields
                ],
            }
            for o in integration.objects()
        ],
    }


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _print_mappings(mappings: dict[str, list[dict[str, str]]]) -> None:
    for obj, items in mappings.items():
        table = Table("internal field", "integration field", "direction", title=f"mapping: {obj}")
        for m in items:
            table.add_row(m["internal_field"], m["integration_field"], m["direction"])
        console.print(table)


def _print_show(doc: dict[str, Any]) -> None:
    console.print(f"[bold]{doc['name']}[/bold] — {doc['display_name']}", highlight=False)
    if doc["description"]:
        console.print(doc["description"], highlight=False)
    table = Table("setting", "value", show_header=False)
    table.add_row("enabled", _yes(doc["enabled"]))
    table.add_row("configured", _yes(doc["configured"]))
    table.add_row("features", ", ".join(doc["features"]) or "-")
    table.add_row("credentials", "set" if doc["credentials_set"] else "not set")
    table.add_row("conflict winner", doc["conflict_winner"])
    table.add_row("first sync from", doc["first_sync_from"] or "-")
    for key, value in doc["settings"].items():
        table.add_row(f"settings.{key}", json.dumps(value))
    console.print(table)
    _print_mappings(doc["mappings"])


@app.command("list")
def list_cmd(json_: JsonOpt = False) -> None:
    """List installed integrations, whether they are configured and enabled, and load errors."""

    async def body(c: CoreContainer) -> list[dict[str, Any]]:
        registry = c.integration_registry()
        service = c.integration_settings_service()
        errors = {e.name: e.error for e in registry.errors}
        rows = []
        for loaded in registry.all():
            stored = await service.get(loaded.name)
            rows.append(
                {
                    "name": loaded.name,
                    "display_name": loaded.integration.display_name,
                    "enabled": stored.enabled,
                    "configured": stored.configured,
                    "credentials_set": stored.credentials_set,
                    "features": _features(loaded.integration),
                    "error": errors.pop(loaded.name, None),
                }
            )
        for name, error in errors.items():
            rows.append(
                {
                    "name": name,
                    "display_name": None,
                    "enabled": False,
                    "configured": False,
                    "credentials_set": False,
                    "features": [],
                    "error": error,
                }
            )
        return sorted(rows, key=lambda r: r["name"])

    rows = run(body)
    if json_:
        print_list(rows)
        return
    table = Table("name", "display name", "enabled", "configured", "features", "error")
    for r in rows:
        table.add_row(
            r["name"],
            r["display_name"] or "-",
            _yes(r["enabled"]),
            _yes(r["configured"]),
            ", ".join(r["features"]),
            f"[red]{r['error']}[/red]" if r["error"] else "",
        )
    console.print(table)


@app.command("show")
def show_cmd(name: str, json_: JsonOpt = False) -> None:
    """Show an integration's settings and field mappings (never its credentials)."""

    async def body(c: CoreContainer) -> dict[str, Any]:
        loaded = c.integration_registry().get(name)
        return _show_doc(loaded, await c.integration_settings_service().get(name))

    doc = run(body)
    if json_:
        print_json(doc)
    else:
        _print_show(doc)


def _is_text(annotation: Any) -> bool:
    if annotation in (str, pydantic.SecretStr):
        return True
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_is_text(a) for a in get_args(annotation) if a is not type(None))
    return False


def _coerce(raw: str, schema: type[pydantic.BaseModel], key: str) -> Any:
    """A text field keeps the text as given; anything else is read as JSON when it parses."""
    info = schema.model_fields.get(key)
    if info is not None and _is_text(info.annotation):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _parse_since(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            day = date.fromisoformat(text)
        except ValueError as exc:
            raise typer.BadParameter(
                f"expected an ISO date or date-time, got {text!r}", param_hint="--first-sync-from"
            ) from exc
        parsed = datetime(day.year, day.month, day.day)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


@app.command("configure")
def configure_cmd(
    name: str,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="KEY=VALUE",
            help="key=value; keys of the credentials schema are stored encrypted. "
            "Values are JSON when they parse (text fields keep the text).",
        ),
    ] = None,
    secret: Annotated[
        list[str] | None,
        typer.Option(
            "--secret",
            metavar="KEY[=VALUE]",
            help="A credential, stored encrypted. Give only KEY to be prompted for it without "
            "echo (recommended): a VALUE on the command line shows in ps and shell history.",
            show_default=False,
        ),
    ] = None,
    secret_from_env: Annotated[
        list[str] | None,
        typer.Option(
            "--secret-from-env",
            metavar="KEY=VARIABLE",
            help="A credential read from an environment variable, for scripts and CI.",
            show_default=False,
        ),
    ] = None,
    secret_stdin: Annotated[
        str | None,
        typer.Option(
            "--secret-stdin",
            metavar="KEY",
            help="A credential read from the first line of standard input, for scripts "
            '(printf %s "$TOKEN" | leadbridge integrations configure …).',
            show_default=False,
        ),
    ] = None,
    enabled: Annotated[
        bool | None, typer.Option("--enable/--disable", help="Turn the integration on or off.")
    ] = None,
    conflict_winner: Annotated[
        str | None,
        typer.Option(
            metavar="internal|integration",
            help="Who wins a field changed on both sides at the same time.",
        ),
    ] = None,
    first_sync_from: Annotated[
        str | None,
        typer.Option(metavar="DATE", help="Sync nothing older than this ISO date (UTC)."),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Change an integration's settings, credentials and state; the rest is kept."""
    since = _parse_since(first_sync_from)
    set_pairs = [split_pair(p, "--set") for p in set_ or ()]
    for key, value in set_pairs:
        if value is None:
            raise typer.BadParameter(f"expected key=value, got {key!r}", param_hint="--set")
    secrets = read_secrets(secret or (), secret_from_env or (), secret_stdin)

    async def body(c: CoreContainer) -> dict[str, Any]:
        loaded = c.integration_registry().get(name)
        integration = loaded.integration
        cred_schema, settings_schema = integration.credentials_schema, integration.settings_schema
        settings: dict[str, Any] = {}
        credentials: dict[str, Any] = {}
        for key, raw in set_pairs:
            assert raw is not None
            if key in cred_schema.model_fields and key not in settings_schema.model_fields:
                credentials[key] = _coerce(raw, cred_schema, key)
            else:
                settings[key] = _coerce(raw, settings_schema, key)
        warn_on_command_line([key for key in credentials if key not in secrets])
        for key, raw in secrets.items():
            credentials[key] = _coerce(raw, cred_schema, key)
        winner: ConflictWinner | None = conflict_winner  # type: ignore[assignment]
        stored = await c.integration_settings_service().configure(
            name,
            settings=settings or None,
            credentials=credentials or None,
            enabled=enabled,
            conflict_winner=winner,
            first_sync_from=since,
        )
        return _show_doc(loaded, stored)

    doc = run(body)
    if json_:
        print_json(doc)
    else:
        _print_show(doc)


def _parse_map(text: str) -> tuple[str, str, Direction | None]:
    internal, sep, rest = text.partition("=")
    if not sep or not internal.strip() or not rest.strip():
        raise typer.BadParameter(
            f"expected internal=integration[:direction], got {text!r}", param_hint="--map"
        )
    integration_field, colon, direction = rest.rpartition(":")
    if not colon:
        return internal.strip(), rest.strip(), None
    try:
        return internal.strip(), integration_field.strip(), Direction(direction.strip())
    except ValueError as exc:
        raise typer.BadParameter(
            f"unknown direction {direction!r} in {text!r}; use "
            + ", ".join(d.value for d in Direction),
            param_hint="--map",
        ) from exc


@app.command("mapping")
def mapping_cmd(
    name: str,
    map_: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            metavar="INTERNAL=FIELD[:DIRECTION]",
            help="internal=integration[:direction]; direction: to_internal, to_integration or "
            "bidirectional (default: the widest the field allows).",
        ),
    ] = None,
    object_: Annotated[
        str | None,
        typer.Option(
            "--object",
            metavar="OBJECT",
            help="The integration object (needed when it has several).",
        ),
    ] = None,
    default: Annotated[
        bool,
        typer.Option("--default", help="Start from the integration's proposed default mapping."),
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Show or replace an object's field mapping.

    --map entries replace the object's mapping (on top of the default mapping with
    --default); with neither, show the current mapping.
    """
    parsed = [_parse_map(m) for m in map_ or ()]

    async def body(c: CoreContainer) -> dict[str, list[dict[str, str]]]:
        integration = c.integration_registry().get(name).integration
        service = c.integration_settings_service()
        if object_ is not None:
            objects = [integration.get_object(object_).name]
        elif parsed:
            names = [o.name for o in integration.objects()]
            if len(names) != 1:
                raise typer.BadParameter(
                    f"{name} has several objects ({', '.join(names)}): name one",
                    param_hint="--object",
                )
            objects = names
        else:
            objects = [o.name for o in integration.objects()]
        if parsed or default:
            proposed = await service.default_mapping(name) if default else {}
            changes: dict[str, list[FieldMapping]] = {}
            for obj_name in objects:
                obj = integration.get_object(obj_name)
                by_field = {m.integration_field: m for m in proposed.get(obj_name, [])}
                for internal, integration_field, direction in parsed:
                    spec = obj.field(integration_field)
                    if direction is None:
                        direction = spec.widest_direction() if spec else Direction.BIDIRECTIONAL
                    by_field[integration_field] = FieldMapping(
                        internal, integration_field, direction
                    )
                changes[obj_name] = list(by_field.values())
            stored = await service.set_mappings(name, changes)
        else:
            stored = await service.get(name)
        doc: dict[str, list[dict[str, str]]] = stored.to_dict()["mappings"]
        return {obj: doc.get(obj, []) for obj in objects}

    mappings = run(body)
    if json_:
        print_json(mappings)
    else:
        _print_mappings(mappings)
