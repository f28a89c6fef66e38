from __future__ import annotations

import gzip
from typing import Any

import httpx
import pytest
from dependency_injector import containers, providers
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from leadbridge import CoreContainer, Settings
from leadbridge.events import ContactCreated
from leadbridge.integrations import LoadedIntegration, UnknownIntegrationError
from leadbridge_gateway import GatewaySettings, create_app


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway")


async def test_healthz_and_readyz(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["migrations"]["core"] == "core_0001"
    assert body["migrations"]["tokens"] == "tokens_0001"


async def test_readyz_reports_pending_migrations(
    fresh_database_url: str, settings: Settings
) -> None:
    from dataclasses import replace

    core = CoreContainer(
        settings=providers.Object(replace(settings, database_url=fresh_database_url))
    )
    app = create_app(core, GatewaySettings(), owns_container=True)
    async with app.router.lifespan_context(app), _client(app) as client:
        ready = await client.get("/readyz")
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "unavailable" and "core" in body["pending"]
    assert "leadbridge db upgrade" in body["hint"]


async def test_readyz_when_database_is_unreachable(settings: Settings) -> None:
    from dataclasses import replace

    url = "postgresql+asyncpg://nobody:hunter2@127.0.0.1:1/nowhere"
    core = CoreContainer(settings=providers.Object(replace(settings, database_url=url)))
    app = create_app(core, GatewaySettings(), owns_container=True)
    async with app.router.lifespan_context(app), _client(app) as client:
        ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["status"] == "unavailable"
    assert "hunter2" not in ready.text and "nobody" not in ready.text


async def test_the_lifespan_leaves_the_callers_container_open(container: CoreContainer) -> None:
    app = create_app(container, GatewaySettings())
    engine = container.engine()
    async with app.router.lifespan_context(app), _client(app) as client:
        assert (await client.get("/readyz")).status_code == 200
        pool = engine.sync_engine.pool
        assert pool.checkedin() >= 1
    # The container's owner (here the fixture) shuts it down: its pool is still open.
    assert engine.sync_engine.pool is pool and pool.checkedin() >= 1
    assert (await container.contact_service().create("ann@example.com")).id > 0


async def test_an_owning_lifespan_shuts_the_container_down(settings: Settings) -> None:
    core = CoreContainer(settings=providers.Object(settings))
    app = create_app(core, GatewaySettings(), owns_container=True)
    engine = core.engine()
    async with app.router.lifespan_context(app), _client(app) as client:
        assert (await client.get("/readyz")).status_code == 200
        pool = engine.sync_engine.pool
        assert pool.checkedin() >= 1
        assert core.event_bus().has_subscribers(ContactCreated)  # started by the lifespan
    assert engine.sync_engine.pool is not pool  # core's shutdown disposed of the pool
    assert engine.sync_engine.pool.checkedin() == 0
    assert not core.event_bus().has_subscribers(ContactCreated)


async def test_unknown_route_is_a_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/nope")
    assert response.status_code == 404
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


# -- webhooks -----------------------------------------------------------------------------


async def test_webhook_for_unknown_integration_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post("/webhooks/hubspot", json={})
    assert response.status_code == 404
    assert response.json()["errors"][0]["message"] == (
        "no integration named 'hubspot' receives webhooks here"
    )


async def test_webhooks_reach_explicit_apps_and_integration_containers(
    container: CoreContainer,
) -> None:
    seen: list[tuple[str, str, bytes]] = []

    async def asgi_app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        seen.append((scope["root_path"], request.url.path, await request.body()))
        await PlainTextResponse("ok", status_code=202)(scope, receive, send)

    async def handler(request: Request) -> JSONResponse:
        return JSONResponse({"got": (await request.json())["event"]})

    class DemoContainer(containers.DeclarativeContainer):
        core = providers.DependenciesContainer()
        webhook_app = providers.Object(handler)

    class QuietContainer(containers.DeclarativeContainer):  # receives no webhooks
        core = providers.DependenciesContainer()

    class Registry:  # what core's integration registry answers for installed plugins
        def get(self, name: str) -> LoadedIntegration:
            plugins = {"demo": DemoContainer, "quiet": QuietContainer}
            if name not in plugins:
                raise UnknownIntegrationError(f"integration {name!r} does not exist", value=name)
            return LoadedIntegration(name, None, plugins[name](core=core))  # type: ignore[arg-type]

        def segment_filters(self) -> list[object]:  # what plugins add to core's services
            return []

        point_action_types = job_kinds = event_subscribers = segment_filters

        def contact_data(self) -> list[object]:  # plugins' Contact fields
            return []

    core = CoreContainer(settings=providers.Object(container.settings()))
    core.integration_registry.override(providers.Object(Registry()))
    app = create_app(core, GatewaySettings(), webhooks={"explicit": asgi_app})
    async with _client(app) as client:
        first = await client.post("/webhooks/explicit/events/1", content=b"payload")
        assert first.status_code == 202
        assert seen == [("/webhooks/explicit", "/webhooks/explicit/events/1", b"payload")]
        second = await client.post("/webhooks/demo", json={"event": "registered"})
        assert second.status_code == 200 and second.json() == {"got": "registered"}
        assert (await client.post("/webhooks/quiet")).status_code == 404
        assert (await client.post("/webhooks/nobody")).status_code == 404


async def test_webhook_routes_answer_with_and_without_the_final_slash(
    container: CoreContainer,
) -> None:
    """Senders do not follow redirects: both spellings are served, neither redirects."""

    async def receive(request: Request) -> JSONResponse:
        return JSONResponse({"path": request.url.path, "body": (await request.body()).decode()})

    # Shaped like the Livestorm receiver (one catch-all route) and like a plugin with routes.
    catch_all = Starlette(routes=[Route("/{path:path}", receive, methods=["POST"])])
    routed = Starlette(
        routes=[
            Route("/", receive, methods=["POST"]),
            Route("/events/{id}", receive, methods=["POST"]),
            Route("/hooks/", receive, methods=["POST"]),
        ]
    )
    app = create_app(
        container, GatewaySettings(), webhooks={"livestorm": catch_all, "routed": routed}
    )
    async with _client(app) as client:
        for path in (
            "/webhooks/livestorm",
            "/webhooks/livestorm/",
            "/webhooks/routed",
            "/webhooks/routed/",
            "/webhooks/routed/events/7",
            "/webhooks/routed/events/7/",
            "/webhooks/routed/hooks",
            "/webhooks/routed/hooks/",
        ):
            response = await client.post(path, content=b"delivery")
            assert response.status_code == 200, (path, response.status_code, response.headers)
            assert response.json()["body"] == "delivery"
        missing = await client.post("/webhooks/routed/nothing/", content=b"delivery")
        assert missing.status_code == 404


# -- request limits, CORS, GraphiQL -------------------------------------------------------


@pytest.mark.parametrize("gateway_settings", [GatewaySettings(max_body_bytes=200)])
async def test_body_size_limit(client: httpx.AsyncClient, token: str) -> None:
    big = "{ " + "__typename " * 40 + "}"
    declared = await client.post("/graphql", json={"query": big})
    assert declared.status_code == 413
    assert declared.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(10):
            yield b" " * 50

    streamed = await client.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413
    small = await client.post("/graphql", json={"query": "{ __typename }"})
    assert small.status_code == 200 and small.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    "gateway_settings", [GatewaySettings(cors_origins=("https://app.example.com",))]
)
async def test_cors(client: httpx.AsyncClient) -> None:
    headers = {
        "Origin": "https://app.example.com",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    allowed = await client.options("/graphql", headers=headers)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    refused = await client.options("/graphql", headers={**headers, "Origin": "https://evil.test"})
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    simple = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": "https://app.example.com"}
    )
    assert simple.headers["access-control-allow-origin"] == "https://app.example.com"


async def test_no_cors_headers_by_default(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": "https://app.example.com"}
    )
    assert "access-control-allow-origin" not in response.headers


async def test_graphiql_is_off_by_default(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 404 and "graphiql" not in page.text.lower()
    assert (await client.get("/graphiql/graphiql.min.js")).status_code == 404


@pytest.mark.parametrize("gateway_settings", [GatewaySettings(graphiql=True)])
async def test_graphiql_is_served_offline(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and '<div id="graphiql">' in page.text
    # Every asset comes from us: no absolute URL anywhere in the page.
    assert "http://" not in page.text and "https://" not in page.text
    for name in (
        "graphiql.min.js",
        "graphiql.min.css",
        "react.production.min.js",
        "react-dom.production.min.js",
    ):
        assert f'"/graphiql/{name}"' in page.text
    raw = await client.get("/graphiql/graphiql.min.js", headers={"Accept-Encoding": "gzip"})
    assert raw.status_code == 200 and "GraphiQL" in raw.text  # httpx decompresses
    assert raw.headers["content-encoding"] == "gzip"
    plain = await client.get("/graphiql/graphiql.min.css", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and ".graphiql-container" in plain.text
    react = await client.get("/graphiql/react.production.min.js")
    assert react.headers["content-type"].startswith("application/javascript")
    assert "MIT" in (await client.get("/graphiql/LICENSE.graphiql")).text
    assert (await client.get("/graphiql/secret.key")).status_code == 404
    assert gzip  # the big assets are stored gzipped and sent as such
