"""``leadbridge demo``: every installed integration's demo workspace, synced, segmented and
scored, behind a running gateway — on SQLite, in a data dir of its own."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Annotated, Any

import typer
from cryptography.fernet import Fernet
from dependency_injector import providers
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from leadbridge import CoreContainer, LeadBridgeError, Settings, db, shutdown
from leadbridge.integrations import BaseDemo, DemoSetup, installed_migration_locations
from leadbridge.sync import SyncOptions, SyncProgress, SyncTrigger

from ._settings import GatewaySettings

READ_SCOPES = ("contacts:read", "segments:read", "integrations:read")

EXAMPLE_QUERIES = (
    "{ contacts(first: 5, orderBy: {field: POINTS, direction: DESC}) "
    "{ totalCount edges { node { email firstName points tags } } } }",
    '{ contact(email: "EMAIL") { email firstName lastName company points tags } }',
)


def _settings(data_dir: Path) -> Settings:
    data_dir.mkdir(parents=True, exist_ok=True)
    key_file = data_dir / "secret.key"
    if not key_file.exists():
        key_file.write_text(Fernet.generate_key().decode())
        key_file.chmod(0o600)
    return Settings(
        database_url=f"sqlite+aiosqlite:///{data_dir / 'leadbridge.db'}",
        data_dir=data_dir,
        secret_key=key_file.read_text().strip(),
    )


async def _prepare(container: CoreContainer, say: Any) -> tuple[list[BaseDemo], str, str | None]:
    """Configure and sync every integration that has a demo; returns demos, token, an email."""
    await db.upgrade(container.engine(), installed_migration_locations())
    registry = container.integration_registry()
    service = container.integration_settings_service()
    demos: list[BaseDemo] = []
    setups: dict[str, DemoSetup] = {}
    for name in registry.names():
        loaded = registry.get(name)
        if not loaded.has("demo"):
            continue
        demo: BaseDemo = loaded.provide("demo")
        setups[name] = await demo.start(container.settings().data_dir)
        demos.append(demo)
    if not setups:
        raise LeadBridgeError("no installed integration provides a demo workspace")

    fields = container.custom_field_service()
    known = {spec.alias for spec in await fields.list()}
    for name, setup in setups.items():
        for alias, type_, label in setup.custom_fields:
            if alias not in known:
                await fields.define(alias, type_, label=label)
                known.add(alias)
        await service.configure(
            name,
            settings=setup.settings,
            credentials=setup.credentials,
            enabled=True,
        )
        mappings = await service.default_mapping(name)
        await service.set_mappings(name, mappings)
        for note in setup.notes:
            say(f"  {note}")

    # Point actions before the first sync: they score what the sync brings in.
    points = container.points_service()
    for setup in setups.values():
        for action in setup.point_actions:
            await points.create_action(
                name=action.name, type=action.type, delta=action.delta, settings=action.settings
            )

    sync = container.sync_service()
    for name in setups:
        progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[api_calls]} API calls"),
            TimeElapsedColumn(),
        )
        tasks: dict[str, Any] = {}

        def show(
            p: SyncProgress,
            progress: Progress = progress,
            tasks: dict[str, Any] = tasks,
            name: str = name,
        ) -> None:
            key = f"{name}: {p.phase} {p.object}"
            if key not in tasks:
                tasks[key] = progress.add_task(key, total=p.total, api_calls=0)
            progress.update(
                tasks[key], completed=p.done, total=p.total, api_calls=p.counters.api_calls
            )

        with progress:
            result = await sync.start(name, SyncOptions(), SyncTrigger.CLI, progress=show)
        c = result.counters
        say(
            f"synced {name}: {result.status.value}, {c.pulled} pulled, {c.created} contacts "
            f"created, {c.api_calls} API calls"
        )

    segments = container.segment_service()
    for setup in setups.values():
        for seg in setup.segments:
            await segments.create(
                name=seg.name, alias=seg.alias, filters=seg.filters, description=seg.description
            )
    for rebuilt in await segments.rebuild_all():
        say(f"segment {rebuilt.alias}: {rebuilt.total} members")
    issued = await container.token_service().create("demo (read-only)", READ_SCOPES)
    first = await container.contact_service().list(limit=1)
    email = first.items[0].email if first.items else None
    return demos, issued.secret, email


def register(app: typer.Typer) -> None:
    """Add ``leadbridge demo`` to the CLI."""

    @app.command("demo")
    def demo(
        reset: Annotated[
            bool, typer.Option("--reset", help="Wipe the demo's data dir first.")
        ] = False,
        data_dir: Annotated[
            Path, typer.Option(help="Where the demo keeps its SQLite database.")
        ] = Path(".leadbridge-demo"),
        host: Annotated[str, typer.Option(help="Interface the gateway binds.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Gateway port.", min=1, max=65535)] = 8000,
    ) -> None:
        """Run the demo: a fake Livestorm, seeded data, a sync, segments, points and the
        gateway with GraphiQL. Ctrl-C stops everything."""
        from rich.console import Console

        from leadbridge.cli._common import fail

        console = Console()
        data_dir = data_dir.expanduser().resolve()
        if reset and data_dir.exists():
            shutil.rmtree(data_dir)
        container = CoreContainer(settings=providers.Object(_settings(data_dir)))
        try:
            asyncio.run(_main(container, host, port, console))
        except LeadBridgeError as exc:
            fail(str(exc), exc)
        except KeyboardInterrupt:
            pass
        console.print("demo stopped")


async def _main(container: CoreContainer, host: str, port: int, console: Any) -> None:
    import uvicorn

    from ._app import create_app

    demos: list[BaseDemo] = []
    try:
        demos, token, email = await _prepare(container, console.print)
        app = create_app(container, GatewaySettings(graphiql=True))
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
        server = uvicorn.Server(config)
        base = f"http://{host}:{port}"
        query = EXAMPLE_QUERIES[0]
        body = json.dumps({"query": query})
        lines = [
            f"GraphiQL:  {base}/graphql",
            f"API token: {token}   (read-only; send it as 'Authorization: Bearer …')",
            "",
            "Try:",
            f"  {query}",
            f"  {EXAMPLE_QUERIES[1].replace('EMAIL', email or 'someone@example.com')}",
            "",
            f"curl -s {base}/graphql -H 'Authorization: Bearer {token}' "
            f"-H 'Content-Type: application/json' -d '{body}'",
            "",
            "Ctrl-C stops the demo.",
        ]
        console.rule("LeadBridge demo")
        for line in lines:
            console.print(line, soft_wrap=True, highlight=False, markup=False)
        console.rule()
        # Machine-readable line for scripts and tests.
        console.print(json.dumps({"graphql": f"{base}/graphql", "token": token}), soft_wrap=True)
        await server.serve()
    finally:
        for demo in demos:
            await demo.stop()
        await shutdown(container)
