"""graphql-transport-ws against a real uvicorn server on loopback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from leadbridge import CoreContainer, Scope
from leadbridge.sync import SyncTarget, register_sync_target, unregister_sync_target
from leadbridge.testing import MemoryIntegration, define_memory_fields
from leadbridge_gateway import GatewaySettings, create_app

from ._server import serving
from .conftest import MakeToken

PROTOCOL = "graphql-transport-ws"


@pytest_asyncio.fixture
async def server(container: CoreContainer) -> AsyncIterator[str]:
    async with serving(create_app(container, GatewaySettings())) as address:
        yield address


async def _recv(ws: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(10):
        message: dict[str, Any] = json.loads(await ws.recv())
        return message


async def _init(ws: ClientConnection, token: str | None) -> None:
    payload = {"Authorization": f"Bearer {token}"} if token else {}
    await ws.send(json.dumps({"type": "connection_init", "payload": payload}))


async def test_connection_ack_and_an_operation(
    server: str, token: str, container: CoreContainer
) -> None:
    await container.contact_service().create("ann@x.io")
    async with connect(f"ws://{server}/graphql", subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == PROTOCOL
        await _init(ws, token)
        assert await _recv(ws) == {"type": "connection_ack"}
        await ws.send(json.dumps({"type": "ping"}))
        assert (await _recv(ws))["type"] == "pong"
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": "{ contacts(first: 5) { totalCount nodes { email } } }"},
                }
            )
        )
        assert await _recv(ws) == {
            "id": "1",
            "type": "next",
            "payload": {"data": {"contacts": {"totalCount": 1, "nodes": [{"email": "ann@x.io"}]}}},
        }
        assert await _recv(ws) == {"id": "1", "type": "complete"}


async def test_operations_check_scopes_over_websockets(server: str, make_token: MakeToken) -> None:
    token = await make_token(Scope.SEGMENTS_READ)
    async with connect(f"ws://{server}/graphql", subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
        await _init(ws, token)
        assert (await _recv(ws))["type"] == "connection_ack"
        await ws.send(
            json.dumps(
                {
                    "id": "a",
                    "type": "subscribe",
                    "payload": {"query": "{ customFields { alias } }"},
                }
            )
        )
        message = await _recv(ws)
        assert message["type"] == "next"
        assert message["payload"]["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (None, "authentication required"),
        ("lbt_wrong", "the API token is unknown, revoked or expired"),
    ],
)
async def test_connection_without_a_valid_token_is_refused_with_a_reason(
    server: str, token: str | None, reason: str
) -> None:
    async with connect(f"ws://{server}/graphql", subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
        await _init(ws, token)
        with pytest.raises(ConnectionClosed) as closed:
            await _recv(ws)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    assert closed.value.rcvd.reason.startswith(reason), closed.value.rcvd.reason


async def test_the_legacy_protocol_is_refused_at_the_handshake(server: str) -> None:
    # graphql-ws (subscriptions-transport-ws) carries no queries: a client that offers it
    # first must be steered to graphql-transport-ws, or told no when it offers nothing else.
    async with connect(
        f"ws://{server}/graphql",
        subprotocols=["graphql-ws", PROTOCOL],  # type: ignore[list-item]
    ) as ws:
        assert ws.subprotocol == PROTOCOL
    async with connect(f"ws://{server}/graphql", subprotocols=["graphql-ws"]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol is None
        with pytest.raises(ConnectionClosed) as closed:
            await _recv(ws)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4406


async def test_unknown_subprotocol_is_refused(server: str) -> None:
    async with connect(f"ws://{server}/graphql", subprotocols=["chat"]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol is None
        with pytest.raises(ConnectionClosed) as closed:
            await _recv(ws)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4406


async def test_http_on_the_same_server(server: str, token: str) -> None:
    async with httpx.AsyncClient(base_url=f"http://{server}") as client:
        response = await client.post(
            "/graphql",
            json={"query": "{ contacts { totalCount } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.json() == {"data": {"contacts": {"totalCount": 0}}}
        assert (await client.get("/healthz")).json() == {"status": "ok"}


async def test_sync_run_progress_streams_until_the_run_ends(
    server: str, make_token: MakeToken, container: CoreContainer
) -> None:
    await define_memory_fields(container.custom_field_service())
    remote = MemoryIntegration(page_size=5)
    for i in range(20):
        remote.add({"emailAddress": f"p{i}@example.com", "firstName": f"P{i}"})
    remote.page_delay = 0.3
    register_sync_target("memory", lambda: SyncTarget(remote.exchange(), remote.manual()))
    token = await make_token(Scope.INTEGRATIONS_READ, Scope.SYNC_RUN)
    try:
        async with httpx.AsyncClient(base_url=f"http://{server}") as client:
            response = await client.post(
                "/graphql",
                json={"query": 'mutation { startSync(integration: "memory") { run { id } } }'},
                headers={"Authorization": f"Bearer {token}"},
            )
        run_id = response.json()["data"]["startSync"]["run"]["id"]
        async with connect(f"ws://{server}/graphql", subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
            await _init(ws, token)
            assert (await _recv(ws))["type"] == "connection_ack"
            query = (
                "subscription($id: ID!) { syncRunProgress(id: $id) { status pulled created "
                "apiCalls finishedAt } }"
            )
            await ws.send(
                json.dumps(
                    {
                        "id": "p",
                        "type": "subscribe",
                        "payload": {"query": query, "variables": {"id": run_id}},
                    }
                )
            )
            updates = []
            while (message := await _recv(ws))["type"] == "next":
                assert "errors" not in message["payload"], message
                updates.append(message["payload"]["data"]["syncRunProgress"])
            assert message == {"id": "p", "type": "complete"}
    finally:
        unregister_sync_target("memory")
    intermediate = [u for u in updates if u["status"] == "RUNNING" and 0 < u["pulled"] < 20]
    assert intermediate, updates
    assert updates[-1]["status"] == "SUCCEEDED"
    assert updates[-1]["pulled"] == 20 and updates[-1]["finishedAt"] is not None
    pulled = [u["pulled"] for u in updates]
    assert pulled == sorted(pulled)


async def test_sync_run_progress_needs_its_scope(server: str, make_token: MakeToken) -> None:
    token = await make_token(Scope.CONTACTS_READ)
    async with connect(f"ws://{server}/graphql", subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
        await _init(ws, token)
        assert (await _recv(ws))["type"] == "connection_ack"
        query = 'subscription { syncRunProgress(id: "U3luY1J1bjox") { status } }'
        await ws.send(json.dumps({"id": "s", "type": "subscribe", "payload": {"query": query}}))
        message = await _recv(ws)
    assert message["type"] in ("next", "error")
    errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
