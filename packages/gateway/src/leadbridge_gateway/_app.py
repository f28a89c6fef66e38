"""The Starlette application: ``/graphql``, health, readiness, webhooks, GraphiQL."""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

from dependency_injector import providers
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute

from leadbridge import CoreContainer, LeadBridgeError, shutdown, start
from leadbridge.jobs import WorkerHeartbeat
from leadbridge.observability import configure_tracing, tracing_active

from ._container import GatewayContainer
from ._graphiql import static_asset
from ._middleware import BodySizeLimit, DatabaseBusyAnswer
from ._readiness import ReadinessProbe
from ._request_id import RequestId
from ._scrape import MetricsEndpoint
from ._settings import GatewaySettings
from ._view import GraphQLView, error_response
from ._webhooks import WebhookDispatcher, discover

log = logging.getLogger("leadbridge.gateway")


def _migration_locations() -> list[Path]:
    """Version directories of installed plugins, from the integration registry when present."""
    try:
        integrations = importlib.import_module("leadbridge.integrations")
    except ImportError:
        return []
    hook = getattr(integrations, "installed_migration_locations", None)
    return list(hook()) if hook is not None else []


#: Probes and scrapes make no HTTP server spans (regular expressions searched in the URL).
_UNTRACED_URLS = "/healthz,/readyz,/metrics"
#: Spans of each ASGI receive/send message would outnumber the requests' own by far.
_ASGI_EVENTS: list[Literal["receive", "send"]] = ["receive", "send"]


def _tracing_middleware() -> list[Middleware]:
    """An HTTP server span per request (the maintained ASGI instrumentation), parent of the
    GraphQL operation's span, when a tracer provider records spans (``OTEL_*`` variables and
    ``configure_tracing``, or the embedding application's own provider)."""
    if not tracing_active():
        return []
    try:
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
    except ImportError:  # a provider without the otel extra: GraphQL spans only
        log.warning("install leadbridge-core[otel] for HTTP server spans")
        return []
    excluded = os.environ.get("OTEL_PYTHON_ASGI_EXCLUDED_URLS") or _UNTRACED_URLS
    return [Middleware(OpenTelemetryMiddleware, excluded_urls=excluded, exclude_spans=_ASGI_EVENTS)]


def create_app(
    container: CoreContainer,
    settings: GatewaySettings | None = None,
    *,
    webhooks: Mapping[str, Any] | None = None,
    graphiql_token: str | None = None,
    owns_container: bool = False,
) -> Starlette:
    """The gateway over ``container``.

    ``settings`` default to ``LEADBRIDGE_GATEWAY_*`` variables. ``webhooks`` maps integration
    names to ASGI apps or request handlers, in addition to those integrations expose. The
    app's lifespan starts the container (:func:`leadbridge.start`: event subscriptions) and,
    when it stops, cancels the syncs started through the API. The container stays its
    caller's: shut it down (``await leadbridge.shutdown(container)``) when done, or pass
    ``owns_container=True`` to have the lifespan do it (closing the database pool).
    ``graphiql_token`` (the demo's) is put in GraphiQL's headers editor: only for a token
    anyone who can load the page may see.
    """
    gateway = GatewayContainer(core=container)
    if settings is not None:
        gateway.settings.override(providers.Object(settings))
    settings = gateway.settings()
    view = GraphQLView(
        gateway.schema(),
        gateway.services(),
        graphiql=settings.graphiql,
        allowed_origins=settings.cors_origins,
        graphiql_token=graphiql_token,
    )
    dispatcher = WebhookDispatcher(webhooks or {}, lambda name: discover(container, name))

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def integration_icon(request: Request) -> Response:
        name = request.path_params["name"]
        try:
            icon = container.integration_registry().get(name).integration.icon_bytes()
        except LeadBridgeError:
            icon = None
        if icon is None:
            return error_response(404, f"no icon for integration {name!r}", "NOT_FOUND")
        kind = "image/svg+xml" if icon.lstrip().startswith((b"<svg", b"<?xml")) else "image/png"
        return Response(icon, media_type=kind, headers={"Cache-Control": "max-age=3600"})

    async def not_found(_request: Request, _exc: Exception) -> JSONResponse:
        return error_response(404, "not found", "NOT_FOUND")

    async def worker_heartbeat() -> WorkerHeartbeat | None:
        queue = container.job_queue()
        return await queue.worker_heartbeat() if queue.available else None

    readiness = ReadinessProbe(container.engine, _migration_locations, worker_heartbeat)
    metrics = MetricsEndpoint(container.engine, settings.metrics_token, container.job_queue)
    routes: list[Any] = [
        Route("/graphql", view),
        WebSocketRoute("/graphql", view),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readiness.respond, methods=["GET"]),
        Route("/metrics", metrics.respond, methods=["GET"]),
        Route("/integrations/{name}/icon", integration_icon, methods=["GET"]),
        Route("/webhooks/{integration}", dispatcher),
        Route("/webhooks/{integration}/{rest:path}", dispatcher),
    ]
    if settings.graphiql:
        routes.append(
            Route("/graphiql/{name:path}", static_asset, methods=["GET"], name="graphiql_static")
        )

    middleware = [
        *_tracing_middleware(),
        Middleware(RequestId),
        Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes),
        Middleware(DatabaseBusyAnswer),
    ]
    if settings.cors_origins:
        middleware.insert(
            0,
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["Accept", "Authorization", "Content-Type"],
                max_age=600,
            ),
        )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        start(container)
        try:
            yield
        finally:
            # Runs first: a cancelled run records its end through the database pool.
            await gateway.sync_runner().aclose()
            if owns_container:
                await shutdown(container)

    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={404: not_found},
    )
    app.state.gateway = gateway
    app.state.sync_runner = gateway.sync_runner()
    return app


def create_app_from_env() -> Starlette:
    """The app uvicorn's workers build (``leadbridge serve``): settings from the environment."""
    container = CoreContainer()
    configure_tracing(container.engine())  # only when OTEL_* variables ask for traces
    return create_app(container, owns_container=True)
