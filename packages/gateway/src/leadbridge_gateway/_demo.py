"""``leadbridge demo``: every installed integration's demo workspace, synced, segmented and
scored, behind a running gateway — on SQLite, in a data dir of its own.

The steps, each safe to run again on the workspace an earlier run left (a rerun resumes it;
``--reset`` starts over):

1. :func:`listen` — claim the port first, so a taken one fails before any setup;
2. :func:`configure` — start each plugin's demo, define its custom fields, store its settings
   and default mapping;
3. :func:`ensure_point_actions`, :func:`sync`, :func:`ensure_segments`, :func:`ensure_token`;
4. :func:`ensure_schedules` — a sync of each integration every minute (once: a rerun finds
   it), run by :func:`run_schedules` (core's embedded runner) while the gateway serves; the
   fake workspaces gain a few registrations each minute, so new runs show up;
5. :func:`serve` — the gateway (GraphiQL with the token filled in, local dev origins allowed by
   CORS); its address is printed once it accepts connections.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import shutil
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from cryptography.fernet import Fernet
from dependency_injector import providers
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from leadbridge import (
    ConfigurationError,
    CoreContainer,
    LeadBridgeError,
    Settings,
    db,
    shutdown,
    start,
)
from leadbridge.integrations import BaseDemo, DemoSetup, installed_migration_locations
from leadbridge.jobs import JobKind
from leadbridge.sync import SyncOptions, SyncProgress, SyncTrigger

from ._settings import GatewaySettings

READ_SCOPES = ("contacts:read", "segments:read", "integrations:read")
TOKEN_NAME = "demo (read-only)"
#: Where the demo keeps its token's secret (beside ``secret.key``), to hand it out again.
TOKEN_FILE = "demo-token"
#: Origins of the usual local frontend dev servers (Vite, Create React App, Angular…).
DEV_ORIGINS = tuple(
    f"http://{host}:{port}"
    for port in (3000, 4173, 4200, 5173, 8080)
    for host in ("localhost", "127.0.0.1")
)
#: How often the demo syncs each integration (cron: every minute).
SYNC_CRON = "* * * * *"
#: How long the gateway may take to accept connections once started.
STARTUP_DEADLINE = 60.0

EXAMPLE_QUERIES = (
    "{ contacts(first: 5, orderBy: {field: POINTS, direction: DESC}) "
    "{ totalCount edges { node { email firstName points tags } } } }",
    '{ contact(email: "EMAIL") { email firstName lastName company points tags } }',
)

Say = Callable[[str], None]


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


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (``0``: any free port), for uvicorn to serve on."""
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM
        )[0]
    except socket.gaierror as exc:
        raise ConfigurationError(f"--host {host!r} is not an address here: {exc}") from exc
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ConfigurationError(
            f"port {port} on {host} is taken ({exc.strerror}): choose another with "
            "--port N, or --port 0 for any free port"
        ) from exc
    sock.set_inheritable(True)
    return sock


async def configure(
    container: CoreContainer, demos: list[BaseDemo], say: Say
) -> dict[str, DemoSetup]:
    """Start every plugin's demo (added to ``demos``, for the caller to stop, even when this
    fails midway) and configure core for it (idempotent)."""
    await db.upgrade(container.engine(), installed_migration_locations())
    registry = container.integration_registry()
    service = container.integration_settings_service()
    setups: dict[str, DemoSetup] = {}
    for name in registry.names():
        demo = registry.get(name).demo()
        if demo is None:
            continue
        demos.append(demo)
        setups[name] = await demo.start(container.settings().data_dir)
    if not setups:
        raise LeadBridgeError("no installed integration provides a demo workspace")

    fields = container.custom_field_service()
    known = {spec.alias for spec in await fields.list()}
    for name, setup in setups.items():
        for alias, type_, label in setup.custom_fields:
            if alias not in known:
                await fields.define(alias, type_, label=label)
                known.add(alias)
        # The demo server's address and secrets change at every start: stored anew each time.
        await service.configure(
            name, settings=setup.settings, credentials=setup.credentials, enabled=True
        )
        await service.set_mappings(name, await service.default_mapping(name))
        for note in setup.notes:
            say(f"  {note}")
    return setups


async def ensure_point_actions(container: CoreContainer, setups: dict[str, DemoSetup]) -> None:
    """The demo's point actions, each once (matched by name and type)."""
    points = container.points_service()
    existing = {(a.name, a.type) for a in await points.list_actions()}
    for setup in setups.values():
        for action in setup.point_actions:
            if (action.name, action.type) in existing:
                continue
            await points.create_action(
                name=action.name, type=action.type, delta=action.delta, settings=action.settings
            )
            existing.add((action.name, action.type))


async def sync(container: CoreContainer, names: list[str], say: Say) -> None:
    """Sync each integration, with a progress bar (a rerun pulls only what changed)."""
    service = container.sync_service()
    for name in names:
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
            result = await service.start(name, SyncOptions(), SyncTrigger.CLI, progress=show)
        c = result.counters
        say(
            f"synced {name}: {result.status.value}, {c.pulled} pulled, {c.created} contacts "
            f"created, {c.api_calls} API calls"
        )


async def ensure_segments(container: CoreContainer, setups: dict[str, DemoSetup], say: Say) -> None:
    """The demo's segments, each once (matched by alias), then rebuilt."""
    segments = container.segment_service()
    existing = {s.alias for s in await segments.list()}
    for setup in setups.values():
        for seg in setup.segments:
            if seg.alias in existing:
                continue
            await segments.create(
                name=seg.name, alias=seg.alias, filters=seg.filters, description=seg.description
            )
            existing.add(seg.alias)
    for rebuilt in await segments.rebuild_all():
        say(f"segment {rebuilt.alias}: {rebuilt.total} members")


async def ensure_token(container: CoreContainer, data_dir: Path) -> str:
    """The demo's read-only token: the one an earlier run issued while it still works."""
    tokens = container.token_service()
    saved = data_dir / TOKEN_FILE
    if saved.exists():
        secret = saved.read_text().strip()
        if await tokens.authenticate(secret) is not None:
            return secret
    issued = await tokens.create(TOKEN_NAME, READ_SCOPES)
    saved.touch(mode=0o600)
    saved.write_text(issued.secret)
    return issued.secret


async def ensure_schedules(container: CoreContainer, names: list[str], say: Say) -> None:
    """A sync of each integration every minute: added once, found again by a rerun."""
    schedules = container.schedule_service()
    existing = {
        s.target: s
        for s in await schedules.list()
        if s.kind == JobKind.SYNC and s.cron == SYNC_CRON
    }
    for name in names:
        schedule = existing.get(name) or await schedules.add(JobKind.SYNC, name, SYNC_CRON)
        say(
            f"schedule {schedule.id}: sync {name} every minute "
            f"(runs listed by the syncRuns query in GraphiQL)"
        )


async def run_schedules(container: CoreContainer, stop: asyncio.Event) -> None:
    """Run the due schedules in this process (core's embedded runner) until ``stop``."""
    await container.embedded_runner().run_forever(stop)


def _banner(base: str, token: str, email: str | None, console: Any) -> None:
    query = EXAMPLE_QUERIES[0]
    body = json.dumps({"query": query})
    lines = [
        f"GraphiQL:  {base}/graphql   (the token is already in its Headers tab)",
        f"API token: {token}   (read-only; send it as 'Authorization: Bearer <token>')",
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


async def serve(
    container: CoreContainer, sock: socket.socket, token: str, email: str | None, console: Any
) -> None:
    """Serve the gateway on ``sock``; print where once it accepts connections."""
    import uvicorn

    from ._app import create_app

    settings = GatewaySettings.from_env()
    settings = dataclasses.replace(
        settings, graphiql=True, cors_origins=(*DEV_ORIGINS, *settings.cors_origins)
    )
    app = create_app(container, settings, graphiql_token=token)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    async with asyncio.timeout(STARTUP_DEADLINE):
        while not server.started and not serving.done():  # noqa: ASYNC110 - uvicorn has no event
            await asyncio.sleep(0.05)
    if serving.done():
        await serving  # it stopped before it started: raise why
        raise ConfigurationError("the gateway stopped before accepting connections")
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    _banner(f"http://{shown}:{port}", token, email, console)
    await serving


def register(app: typer.Typer) -> None:
    """Add ``leadbridge demo`` to the CLI."""

    @app.command("demo")
    def demo(
        reset: Annotated[
            bool, typer.Option("--reset", help="Wipe the demo's data dir and start over.")
        ] = False,
        data_dir: Annotated[
            Path, typer.Option(help="Where the demo keeps its SQLite database.")
        ] = Path(".leadbridge-demo"),
        host: Annotated[str, typer.Option(help="Interface the gateway binds.")] = "127.0.0.1",
        port: Annotated[
            int, typer.Option(help="Gateway port; 0 picks a free one.", min=0, max=65535)
        ] = 8000,
    ) -> None:
        """Run the demo: a fake Livestorm, seeded data, a sync, segments, points and the
        gateway with GraphiQL. A second run resumes the same workspace. Ctrl-C stops
        everything."""
        from rich.console import Console

        from leadbridge.cli import fail

        console = Console()
        data_dir = data_dir.expanduser().resolve()
        try:
            sock = listen(host, port)
        except LeadBridgeError as exc:
            fail(str(exc), exc)
        if reset and data_dir.exists():
            shutil.rmtree(data_dir)
        elif (data_dir / "leadbridge.db").exists():
            console.print(
                f"resuming the demo workspace in {data_dir} (--reset starts over)",
                highlight=False,
                markup=False,
            )
        container = CoreContainer(settings=providers.Object(_settings(data_dir)))
        try:
            asyncio.run(_main(container, sock, console))
        except LeadBridgeError as exc:
            fail(str(exc), exc)
        except KeyboardInterrupt:
            pass
        finally:
            sock.close()
        console.print("demo stopped")


async def _main(container: CoreContainer, sock: socket.socket, console: Any) -> None:
    demos: list[BaseDemo] = []
    start(container)  # points and plugins hear the sync's and the schedules' writes
    try:
        setups = await configure(container, demos, console.print)
        await ensure_point_actions(container, setups)  # before the sync: they score it
        await sync(container, list(setups), console.print)
        await ensure_segments(container, setups, console.print)
        token = await ensure_token(container, container.settings().data_dir)
        await ensure_schedules(container, list(setups), console.print)
        first = await container.contact_service().list(limit=1)
        email = first.items[0].email if first.items else None
        stop = asyncio.Event()
        runner = asyncio.create_task(run_schedules(container, stop))
        try:
            await serve(container, sock, token, email, console)
        finally:
            stop.set()
            await runner
    finally:
        for demo in demos:
            await demo.stop()
        await shutdown(container)
