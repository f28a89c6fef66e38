from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from leadbridge import CoreContainer


async def _healthz(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def create_app(container: CoreContainer) -> Starlette:
    """The gateway's Starlette application over ``container``."""
    app = Starlette(routes=[Route("/healthz", _healthz)])
    app.state.container = container
    return app
