"""``leadbridge serve``: added to core's CLI through the ``leadbridge.cli`` entry point."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add ``leadbridge serve`` to the CLI."""

    @app.command("serve")
    def serve(
        host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on.", min=0, max=65535)] = 8000,
        workers: Annotated[int, typer.Option(help="Worker processes.", min=1)] = 1,
        dev: Annotated[
            bool, typer.Option("--dev", help="Development mode: serve GraphiQL at /graphql.")
        ] = False,
        print_schema: Annotated[
            bool, typer.Option("--print-schema", help="Print the schema (SDL) and exit.")
        ] = False,
    ) -> None:
        """Run the GraphQL gateway (uvicorn)."""
        if print_schema:
            from .export_schema import schema_sdl

            sys.stdout.write(schema_sdl())
            return
        import uvicorn

        from leadbridge.cli import fail

        if dev:
            # Through the environment, so that every worker process sees it.
            os.environ["LEADBRIDGE_GATEWAY_GRAPHIQL"] = "1"
        try:
            from leadbridge import Settings

            from ._settings import GatewaySettings

            Settings.from_env()
            GatewaySettings.from_env()
        except Exception as exc:  # a bad setting is one line, not a traceback per worker
            fail(str(exc), exc)
        uvicorn.run(
            "leadbridge_gateway._app:create_app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            proxy_headers=True,
            log_level="info",
        )
