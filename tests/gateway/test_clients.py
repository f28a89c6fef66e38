"""GraphQL clients we did not write, against the gateway on loopback: Python's ``gql`` over
websockets and HTTP, npm's ``graphql-ws``, and browsers' CORS rules (preflight and actual
request)."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from leadbridge import CoreContainer, Scope
from leadbridge.sync import SyncTarget, register_sync_target, unregister_sync_target
from leadbridge.testing import MemoryIntegration, define_memory_fields
from leadbridge_gateway import GatewaySettings, create_app

from ._server import serving
from .conftest import MakeToken

PROGRESS = "subscription ($id: ID!) { syncRunProgress(id: $id) { status pulled } }"


@pytest_asyncio.fixture
async def server(container: CoreContainer) -> AsyncIterator[str]:
    async with serving(create_app(container, GatewaySettings())) as address:
        yield address


@pytest_asyncio.fixture
async def remote(container: CoreContainer, sync_worker: None) -> AsyncIterator[MemoryIntegration]:
    # sync_worker: on PostgreSQL startSync only queues the run; the worker runs it.
    await define_memory_fields(container.custom_field_service())
    remote = MemoryIntegration(page_size=5)
    for i in range(12):
        remote.add({"emailAddress": f"p{i}@example.com", "firstName": f"P{i}"})
    register_sync_target("memory", lambda: SyncTarget(remote.exchange(), remote.manual()))
    try:
        yield remote
    finally:
        unregister_sync_target("memory")


def _websocket(server: str, token: str) -> WebsocketsTransport:
    # gql's default: it offers the legacy graphql-ws first, then graphql-transport-ws.
    return WebsocketsTransport(
        url=f"ws://{server}/graphql", init_payload={"Authorization": f"Bearer {token}"}
    )


async def test_gql_websocket_transport_runs_queries_and_mutations(
    server: str, token: str, container: CoreContainer
) -> None:
    await container.contact_service().create("ann@x.io")
    transport = _websocket(server, token)
    async with Client(transport=transport) as session:
        assert transport.subprotocol == "graphql-transport-ws"
        listed = await session.execute(GraphQLRequest("{ contacts { totalCount } }"))
        created = await session.execute(
            GraphQLRequest(
                "mutation ($email: String!) { createContact(input: {email: $email}) "
                "{ contact { email } userErrors { message } } }",
                variable_values={"email": "bob@x.io"},
            )
        )
    assert listed == {"contacts": {"totalCount": 1}}
    assert created == {"createContact": {"contact": {"email": "bob@x.io"}, "userErrors": []}}


async def test_gql_subscribes_to_a_sync_run_with_an_anonymous_operation(
    server: str, make_token: MakeToken, remote: MemoryIntegration
) -> None:
    remote.page_delay = 0.2
    token = await make_token(Scope.INTEGRATIONS_READ, Scope.SYNC_RUN)
    http = HTTPXAsyncTransport(
        url=f"http://{server}/graphql", headers={"Authorization": f"Bearer {token}"}
    )
    async with Client(transport=http) as session:
        started = await session.execute(
            GraphQLRequest('mutation { startSync(integration: "memory") { run { id } } }')
        )
    run_id = started["startSync"]["run"]["id"]
    updates: list[dict[str, Any]] = []
    async with asyncio.timeout(60), Client(transport=_websocket(server, token)) as session:
        request = GraphQLRequest(PROGRESS, variable_values={"id": run_id})
        async for result in session.subscribe(request):
            updates.append(result["syncRunProgress"])
    assert updates[-1] == {"status": "SUCCEEDED", "pulled": 12}
    assert [u["pulled"] for u in updates] == sorted(u["pulled"] for u in updates)


async def test_gql_sees_typed_errors(server: str, make_token: MakeToken) -> None:
    token = await make_token(Scope.SEGMENTS_READ)
    async with Client(transport=_websocket(server, token)) as session:
        with pytest.raises(TransportQueryError) as refused:
            await session.execute(GraphQLRequest("{ customFields { alias } }"))
    assert refused.value.errors is not None
    assert refused.value.errors[0]["extensions"]["code"] == "FORBIDDEN"


# -- CORS -------------------------------------------------------------------------------------

ORIGIN = "http://localhost:5173"


@pytest_asyncio.fixture
async def cors_client(container: CoreContainer) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(container, GatewaySettings(cors_origins=(ORIGIN,)))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client


async def test_cors_preflight_and_actual_request(
    cors_client: httpx.AsyncClient, token: str
) -> None:
    preflight = await cors_client.options(
        "/graphql",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 200, preflight.text
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in preflight.headers["access-control-allow-methods"]
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed

    actual = await cors_client.post(
        "/graphql",
        json={"query": "{ contacts { totalCount } }"},
        headers={"Origin": ORIGIN, "Authorization": f"Bearer {token}"},
    )
    assert actual.json() == {"data": {"contacts": {"totalCount": 0}}}
    assert actual.headers["access-control-allow-origin"] == ORIGIN


async def test_cors_refuses_other_origins(cors_client: httpx.AsyncClient) -> None:
    preflight = await cors_client.options(
        "/graphql",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers


def test_cors_origins_come_from_the_environment() -> None:
    env = {"LEADBRIDGE_CORS_ORIGINS": "http://localhost:5173, http://localhost:3000"}
    assert GatewaySettings.from_env(env).cors_origins == (
        "http://localhost:5173",
        "http://localhost:3000",
    )
    assert GatewaySettings.from_env({}).cors_origins == ()


async def test_a_browser_websocket_from_an_allowed_origin_connects(
    container: CoreContainer, token: str
) -> None:
    app = create_app(container, GatewaySettings(cors_origins=(ORIGIN,)))
    async with serving(app) as address:
        for origin, accepted in ((ORIGIN, True), ("https://evil.example", False)):
            try:
                async with connect(
                    f"ws://{address}/graphql",
                    subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                    origin=origin,  # type: ignore[arg-type]
                ) as ws:
                    opened = ws.subprotocol == "graphql-transport-ws"
            except InvalidStatus as refused:
                assert refused.response.status_code == 403
                opened = False
            assert opened is accepted, origin


# -- the npm graphql-ws client ----------------------------------------------------------------

JS_CLIENTS = Path(__file__).parent / "js"
NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None, reason="no node on PATH: the npm graphql-ws client needs it")
@pytest.mark.skipif(
    not (JS_CLIENTS / "node_modules" / "graphql-ws").is_dir(),
    reason="npm packages not installed: run `npm ci --prefix tests/gateway/js`",
)
async def test_npm_graphql_ws_client(
    server: str, make_token: MakeToken, remote: MemoryIntegration, container: CoreContainer
) -> None:
    await container.contact_service().create("ann@x.io")
    token = await make_token(Scope.CONTACTS_READ, Scope.INTEGRATIONS_READ, Scope.SYNC_RUN)
    async with httpx.AsyncClient(base_url=f"http://{server}") as client:
        started = await client.post(
            "/graphql",
            json={"query": 'mutation { startSync(integration: "memory") { run { id } } }'},
            headers={"Authorization": f"Bearer {token}"},
        )
    run_id = started.json()["data"]["startSync"]["run"]["id"]
    assert NODE is not None
    proc = await asyncio.create_subprocess_exec(
        NODE,
        str(JS_CLIENTS / "graphql_ws_client.mjs"),
        f"ws://{server}/graphql",
        token,
        run_id,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(60):
            out, err = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err.decode()
    doc = json.loads(out)
    [listed] = doc["query"]  # the sync may have added contacts meanwhile
    assert listed["data"]["contacts"]["totalCount"] >= 1
    updates = [r["data"]["syncRunProgress"] for r in doc["subscription"]]
    assert updates[-1] == {"status": "SUCCEEDED", "pulled": 12}
    assert doc["refused"]["code"] == 4403
    assert doc["refused"]["reason"].startswith("the API token is unknown, revoked or expired")
