"""A burst of requests never exhausts the connection pool (one connection per request)."""

from __future__ import annotations

import asyncio

import httpx

from leadbridge import CoreContainer

from .conftest import MakeToken

BURST = 50  # more than the pool holds on either database (SQLite 15, PostgreSQL 20)


async def _burst(client: httpx.AsyncClient, secret: str, query: str) -> list[httpx.Response]:
    headers = {"Authorization": f"Bearer {secret}"}
    return await asyncio.gather(
        *(
            client.post("/graphql", json={"query": query.replace("N", str(n))}, headers=headers)
            for n in range(BURST)
        )
    )


async def test_first_requests_on_a_fresh_token_all_succeed_and_record_its_use(
    client: httpx.AsyncClient, make_token: MakeToken, container: CoreContainer
) -> None:
    secret = await make_token()
    (token,) = await container.token_service().list()
    assert token.last_used_at is None

    responses = await _burst(client, secret, "{ contacts(first: 1) { totalCount } }")

    assert [r.status_code for r in responses] == [200] * BURST
    assert all("errors" not in r.json() for r in responses), responses[0].text
    assert (await container.token_service().get(token.id)).last_used_at is not None


async def test_a_burst_of_mutations_on_a_fresh_token_all_succeed(
    client: httpx.AsyncClient, make_token: MakeToken, container: CoreContainer
) -> None:
    secret = await make_token()

    responses = await _burst(
        client,
        secret,
        'mutation { createContact(input: {email: "c-N@example.com"}) '
        "{ contact { email } userErrors { message } } }",
    )

    assert [r.status_code for r in responses] == [200] * BURST
    payloads = [r.json()["data"]["createContact"] for r in responses]
    assert all(p["userErrors"] == [] for p in payloads), responses[0].text
    assert await container.contact_service().count() == BURST
