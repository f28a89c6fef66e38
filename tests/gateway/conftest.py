from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette

from leadbridge import CoreContainer, Scope
from leadbridge_gateway import GatewaySettings, create_app

ALL_SCOPES = tuple(Scope)


@pytest_asyncio.fixture
async def sync_worker(container: CoreContainer) -> AsyncIterator[None]:
    """On PostgreSQL the gateway only queues syncs: a worker in this process runs them (it
    resolves the sync targets the test registers). Nothing on SQLite."""
    import asyncio

    from leadbridge.jobs import JobQueue

    queue = JobQueue(
        container.settings().database_url,
        container.job_catalog(),
        container.schedule_service(),
        container.session_factory(),
    )
    if not queue.available:
        yield
        return
    stop = asyncio.Event()
    async with queue:
        worker = asyncio.create_task(
            queue.run_worker(stop, concurrency=2, poll_interval=0.1, graceful_timeout=5)
        )
        try:
            yield
        finally:
            stop.set()
            await worker


@pytest.fixture
def gateway_settings() -> GatewaySettings:
    return GatewaySettings()


@pytest_asyncio.fixture
async def app(
    container: CoreContainer, gateway_settings: GatewaySettings
) -> AsyncIterator[Starlette]:
    app = create_app(container, gateway_settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest_asyncio.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as c:
        yield c


MakeToken = Callable[..., Awaitable[str]]


@pytest.fixture
def make_token(container: CoreContainer) -> MakeToken:
    async def make(*scopes: Scope | str) -> str:
        issued = await container.token_service().create("test", scopes or ALL_SCOPES)
        return issued.secret

    return make


@pytest_asyncio.fixture
async def token(make_token: MakeToken) -> str:
    return await make_token()


class GQL:
    """POST a GraphQL request; returns the response document."""

    def __init__(self, client: httpx.AsyncClient, token: str | None) -> None:
        self.client = client
        self.token = token

    async def __call__(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | bool | None = True,
        status: int = 200,
    ) -> dict[str, Any]:
        secret = self.token if token is True else (token or None)
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        assert response.status_code == status, response.text
        doc: dict[str, Any] = response.json()
        return doc

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The data of a request that must succeed without errors."""
        doc = await self(query, variables)
        assert "errors" not in doc, doc["errors"]
        data: dict[str, Any] = doc["data"]
        return data


@pytest.fixture
def gql(client: httpx.AsyncClient, token: str) -> GQL:
    return GQL(client, token)


def codes(doc: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in doc.get("errors", [])]
