"""A write lock held too long by another process is a retryable answer, never an internal error."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
from dependency_injector import providers
from starlette.requests import Request
from starlette.responses import JSONResponse

from leadbridge import CoreContainer, Settings
from leadbridge_gateway import GatewaySettings, create_app

from .._locks import impatient, write_lock_held
from .conftest import ALL_SCOPES


@pytest_asyncio.fixture
async def busy_client(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    core = CoreContainer(settings=providers.Object(settings))
    impatient(core.engine())

    async def write_a_contact(request: Request) -> JSONResponse:
        contact = await core.contact_service().create((await request.json())["email"])
        return JSONResponse({"id": contact.id})

    app = create_app(
        core, GatewaySettings(), webhooks={"writer": write_a_contact}, owns_container=True
    )
    secret = (await core.token_service().create("busy", ALL_SCOPES)).secret
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client, secret


async def test_a_mutation_under_a_held_write_lock_is_a_retryable_error(
    busy_client: tuple[httpx.AsyncClient, str], database_url: str, container: CoreContainer
) -> None:
    client, secret = busy_client
    mutation = 'mutation { createContact(input: {email: "a@example.com"}) { contact { email } } }'
    headers = {"Authorization": f"Bearer {secret}"}
    async with write_lock_held(database_url, "contacts"):
        response = await client.post("/graphql", json={"query": mutation}, headers=headers)
    assert response.status_code == 200
    (error,) = response.json()["errors"]
    retryable = {"code": "SERVICE_UNAVAILABLE", "retryable": True, "retryAfter": 5}
    assert error["extensions"] == retryable
    assert "database is busy" in error["message"] and "retry" in error["message"]
    assert response.headers["retry-after"] == "5"
    assert await container.contact_service().count() == 0

    # Once the lock is gone the same request succeeds.
    again = await client.post("/graphql", json={"query": mutation}, headers=headers)
    assert again.json() == {"data": {"createContact": {"contact": {"email": "a@example.com"}}}}


async def test_a_webhook_under_a_held_write_lock_is_503_with_retry_after(
    busy_client: tuple[httpx.AsyncClient, str], database_url: str, container: CoreContainer
) -> None:
    client, _secret = busy_client
    async with write_lock_held(database_url, "contacts"):
        response = await client.post("/webhooks/writer", json={"email": "w@example.com"})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert await container.contact_service().count() == 0
    assert (await client.post("/webhooks/writer", json={"email": "w@example.com"})).is_success
