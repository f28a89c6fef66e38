from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add ``leadbridge serve`` to the CLI."""

    @app.command("serve")
    def serve(
        host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    ) -> None:
        """Run the GraphQL gateway."""
        import uvicorn

        from leadbridge import CoreContainer

        from ._app import create_app

        uvicorn.run(create_app(CoreContainer()), host=host, port=port)
