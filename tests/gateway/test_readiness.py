"""``/readyz`` keeps what does not change, follows the database as it is migrated, and shows
the job workers' heartbeat on PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from dependency_injector import providers

from leadbridge import CoreContainer, Settings, db
from leadbridge.integrations import installed_migration_locations
from leadbridge_gateway import GatewaySettings, create_app
from tests.core.jobs.conftest import Workers, wait_for


async def test_an_upgrade_while_serving_makes_the_gateway_ready(
    fresh_database_url: str, settings: Settings, db_backend: str
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
        if db_backend == "sqlite":
            assert "worker" not in body  # the embedded runner keeps no heartbeat
        else:  # no worker yet: said, and the gateway is ready all the same
            worker = body["worker"]
            assert (worker["workers"], worker["last_heartbeat"]) == (0, None)
            assert "no worker" in worker["note"]


async def test_readyz_shows_the_newest_worker_heartbeat(
    client: httpx.AsyncClient, settings: Settings, tmp_path: Path, db_backend: str
) -> None:
    if db_backend == "sqlite":
        pytest.skip("workers report heartbeats on PostgreSQL")
    workers = Workers(settings, tmp_path)
    try:
        workers.start()

        async def reported() -> dict[str, Any] | None:
            body: dict[str, Any] = (await client.get("/readyz")).json()
            return body if body.get("worker", {}).get("last_heartbeat") else None

        body = await wait_for(reported, "a worker heartbeat in /readyz", workers)
    finally:
        workers.stop_all()
    assert body["status"] == "ok"
    worker = body["worker"]
    assert worker["workers"] >= 1 and worker["age_seconds"] >= 0 and "note" not in worker
    assert datetime.fromisoformat(worker["last_heartbeat"]).tzinfo is not None
