"""Every response names its request: the caller's ``X-Request-ID`` if sane, else a new one."""

from __future__ import annotations

import httpx


async def test_a_new_id_per_request(client: httpx.AsyncClient) -> None:
    first = (await client.get("/healthz")).headers["X-Request-ID"]
    second = (await client.get("/healthz")).headers["X-Request-ID"]
    assert first and second and first != second


async def test_the_callers_id_is_kept(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz", headers={"X-Request-ID": "edge-7f3a:1"})
    assert response.headers["X-Request-ID"] == "edge-7f3a:1"


async def test_a_malformed_id_is_replaced(client: httpx.AsyncClient) -> None:
    sent = 'x" onload=alert(1) ' + "a" * 200
    response = await client.post("/graphql", json={"query": "{"}, headers={"X-Request-ID": sent})
    assert response.headers["X-Request-ID"] not in ("", sent)
    assert len(response.headers["X-Request-ID"]) == 32
