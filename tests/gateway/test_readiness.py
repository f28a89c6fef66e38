"""``/readyz`` keeps what does not change, and still follows the database as it is migrated."""

from __future__ import annotations

from dataclasses import replace

import httpx
from dependency_injector import providers

from leadbridge import CoreContainer, Settings, db
from leadbridge.integrations import installed_migration_locations
from leadbridge_gateway import GatewaySettings, create_app


async def test_an_upgrade_while_serving_makes_the_gateway_ready(
    fresh_database_url: str, settings: Settings
) -> None:
    core = CoreContainer(
        settings=providers.Object(replace(settings, database_url=fresh_database_url))
    )
    app = create_app(core, GatewaySettings(), owns_container=True)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://gateway") as client,
    ):
        before = await client.get("/readyz")
        assert before.status_code == 503 and "core" in before.json()["pending"]
        await db.upgrade(core.engine(), list(installed_migration_locations()))
        after = await client.get("/readyz")
        assert after.status_code == 200, after.text
        body = after.json()
        assert body["status"] == "ok" and body["migrations"]["core"] == "core_0001"
        assert "worker" not in body  # no worker reports a heartbeat yet
