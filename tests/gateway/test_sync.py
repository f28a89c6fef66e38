"""Sync runs over GraphQL: reading runs and their errors, starting and cancelling syncs."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from leadbridge import CoreContainer, Scope
from leadbridge.sync import (
    StartedSync,
    SyncOptions,
    SyncResult,
    SyncRunError,
    SyncService,
    SyncStatus,
    SyncTarget,
    register_sync_target,
    unregister_sync_target,
)
from leadbridge.testing import MemoryIntegration, define_memory_fields
from leadbridge_gateway._sync_runner import SyncRunner

from .conftest import GQL, MakeToken

RUN_FIELDS = """
  id integration trigger status options startedAt finishedAt cancelRequested error
  pulled created updated unchanged conflicts pushed failed apiCalls
"""
START = (
    "mutation($name: String!, $options: SyncOptionsInput) { startSync(integration: $name, "
    f"options: $options) {{ run {{ {RUN_FIELDS} }} userErrors {{ field message code }} }} }}"
)
RUN = f"query($id: ID!) {{ syncRun(id: $id) {{ {RUN_FIELDS} }} }}"


def person(i: int, **extra: Any) -> dict[str, Any]:
    return {"emailAddress": f"user{i}@example.com", "firstName": f"F{i}", **extra}


@pytest_asyncio.fixture
async def remote(container: CoreContainer, sync_worker: None) -> AsyncIterator[MemoryIntegration]:
    """The in-memory integration, registered as the sync target ``memory`` (and on PostgreSQL
    a worker to run the syncs the gateway queues)."""
    await define_memory_fields(container.custom_field_service())
    memory = MemoryIntegration(page_size=5)
    for i in range(12):
        memory.add(person(i))
    register_sync_target("memory", lambda: SyncTarget(memory.exchange(), memory.manual()))
    yield memory
    unregister_sync_target("memory")


async def wait_for_end(gql: GQL, run_id: str) -> dict[str, Any]:
    async with asyncio.timeout(20):
        while True:
            run: dict[str, Any] = (await gql.data(RUN, {"id": run_id}))["syncRun"]
            if run["status"] not in ("RUNNING", "QUEUED"):
                return run
            await asyncio.sleep(0.02)


async def test_start_sync_returns_the_run_then_it_finishes(
    gql: GQL, remote: MemoryIntegration, container: CoreContainer, db_backend: str
) -> None:
    queued = db_backend == "postgres"
    remote.page_delay = 0.2
    payload = (await gql.data(START, {"name": "memory", "options": {"pullOnly": True}}))[
        "startSync"
    ]
    assert payload["userErrors"] == []
    run = payload["run"]
    # PostgreSQL: queued for a worker; SQLite: running in the gateway's process.
    assert run["status"] == ("QUEUED" if queued else "RUNNING") and run["trigger"] == "api"
    assert run["options"]["pull_only"] is True
    assert base64.b64decode(run["id"]).decode().startswith("SyncRun:")

    done = await wait_for_end(gql, run["id"])
    assert done["status"] == "SUCCEEDED"
    assert done["pulled"] == 12 and done["created"] == 12 and done["apiCalls"] >= 3
    assert done["finishedAt"] is not None
    assert (await container.contact_service().count()) == 12

    # node(id:) loads it too, and syncRuns lists it with its filters
    node = await gql.data(
        "query($id: ID!) { node(id: $id) { ... on SyncRun { status pulled } } }", {"id": run["id"]}
    )
    assert node["node"] == {"status": "SUCCEEDED", "pulled": 12}
    runs = await gql.data(
        '{ a: syncRuns(integration: "memory", status: SUCCEEDED) { totalCount nodes { id } } '
        "b: syncRuns(status: FAILED) { totalCount } "
        '  c: syncRuns(integration: "other") { totalCount } }'
    )
    assert runs["a"] == {"totalCount": 1, "nodes": [{"id": run["id"]}]}
    assert runs["b"]["totalCount"] == 0 and runs["c"]["totalCount"] == 0


async def test_a_second_start_names_the_running_run(
    gql: GQL, remote: MemoryIntegration, db_backend: str
) -> None:
    if db_backend == "postgres":
        pytest.skip("on PostgreSQL a second start is queued behind it (tests/gateway/test_jobs.py)")
    remote.page_delay = 0.5
    first = (await gql.data(START, {"name": "memory"}))["startSync"]["run"]
    pk = base64.b64decode(first["id"]).decode().split(":")[1]
    second = (await gql.data(START, {"name": "memory"}))["startSync"]
    assert second["run"] is None
    [error] = second["userErrors"]
    assert error["code"] == "CONFLICT" and error["field"] == ["integration"]
    assert f"run {pk}" in error["message"]

    cancelled = await gql.data(
        "mutation($id: ID!) { cancelSync(id: $id) { run { cancelRequested } "
        "userErrors { code } } }",
        {"id": first["id"]},
    )
    assert cancelled["cancelSync"] == {"run": {"cancelRequested": True}, "userErrors": []}
    done = await wait_for_end(gql, first["id"])
    assert done["status"] == "CANCELLED" and done["pulled"] < 12

    again = await gql.data(
        "mutation($id: ID!) { cancelSync(id: $id) { run { id } userErrors { field code } } }",
        {"id": first["id"]},
    )
    assert again["cancelSync"] == {
        "run": None,
        "userErrors": [{"field": ["id"], "code": "CONFLICT"}],
    }


async def test_start_errors_are_user_errors(gql: GQL, remote: MemoryIntegration) -> None:
    unknown = (await gql.data(START, {"name": "nope"}))["startSync"]
    assert unknown["run"] is None
    assert unknown["userErrors"][0]["code"] == "NOT_FOUND"
    assert unknown["userErrors"][0]["field"] == ["integration"]  # the argument the caller sent
    assert "nope" in unknown["userErrors"][0]["message"]
    options = {"pullOnly": True, "pushOnly": True}
    both = (await gql.data(START, {"name": "memory", "options": options}))["startSync"]
    assert both["userErrors"] == [
        {
            "field": ["options", "pushOnly"],
            "message": "choose pull only or push only, not both",
            "code": "INVALID",
        }
    ]
    missing = await gql.data(
        'mutation { cancelSync(id: "U3luY1J1bjo5OTk=") { userErrors { code } } }'
    )
    assert missing["cancelSync"]["userErrors"] == [{"code": "NOT_FOUND"}]


class _LeaseLostAtTheEnd:
    """The real sync service, whose runs then fail the way a lost lease ends them."""

    def __init__(self, real: SyncService) -> None:
        self.real = real

    async def begin(self, *args: Any, **kwargs: Any) -> _LeaseLostAtTheEnd._Started:
        return self._Started(await self.real.begin(*args, **kwargs))

    class _Started:
        def __init__(self, started: StartedSync) -> None:
            self.run_id = started.run_id
            self._started = started

        async def execute(self) -> SyncResult:
            result = await self._started.execute()
            raise SyncRunError(
                f"run {result.run_id} lost the lease of memory (another run took over)"
            )


async def test_a_background_run_that_fails_later_is_logged_as_one_warning_line(
    container: CoreContainer,
    remote: MemoryIntegration,
    caplog: pytest.LogCaptureFixture,
    db_backend: str,
) -> None:
    if db_backend == "postgres":
        pytest.skip("on PostgreSQL the gateway queues syncs for a worker: none runs in it")
    caplog.set_level(logging.INFO, logger="leadbridge.gateway")
    remote.page_delay = 0.05
    runner = SyncRunner(
        _LeaseLostAtTheEnd(container.sync_service()),  # type: ignore[arg-type]
        container.sync_run_service(),
        container.job_queue(),
    )

    run = await runner.start("memory", SyncOptions(pull_only=True))
    async with asyncio.timeout(20):  # the run's task ends soon after the run
        while True:
            if not runner.running:
                break
            await asyncio.sleep(0.02)

    (record,) = [r for r in caplog.records if r.name == "leadbridge.gateway"]
    assert record.levelno == logging.WARNING and record.exc_info is None
    assert record.getMessage() == (
        f"sync memory failed: run {run.id} lost the lease of memory (another run took over)"
    )


async def test_run_errors_page_through(
    gql: GQL, container: CoreContainer, sync_worker: None
) -> None:
    await define_memory_fields(container.custom_field_service())
    memory = MemoryIntegration(page_size=5)
    for i in range(6):
        memory.add(person(i))
    for i in range(5):
        memory.add({"emailAddress": f"not-an-email-{i}", "firstName": "Bad"})
    register_sync_target("memory", lambda: SyncTarget(memory.exchange(), memory.manual()))
    try:
        run = (await gql.data(START, {"name": "memory"}))["startSync"]["run"]
        done = await wait_for_end(gql, run["id"])
    finally:
        unregister_sync_target("memory")
    assert done["status"] == "PARTIAL" and done["failed"] == 5
    query = (
        "query($id: ID!, $after: String) { syncRun(id: $id) { errors(first: 2, after: $after) { "
        "totalCount pageInfo { hasNextPage endCursor } nodes { direction object message "
        "integrationId } } } }"
    )
    seen: list[str] = []
    after = None
    while True:
        page = (await gql.data(query, {"id": run["id"], "after": after}))["syncRun"]["errors"]
        assert page["totalCount"] == 5
        seen += [n["integrationId"] for n in page["nodes"]]
        assert all(n["direction"] == "pull" and n["message"] for n in page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == 5


async def test_shutdown_cancels_background_runs(
    container: CoreContainer, remote: MemoryIntegration, make_token: MakeToken, db_backend: str
) -> None:
    if db_backend == "postgres":
        pytest.skip("no sync runs inside a gateway process on PostgreSQL")
    from leadbridge_gateway import GatewaySettings, create_app

    remote.page_delay = 0.5
    app = create_app(container, GatewaySettings())
    token = await make_token(Scope.SYNC_RUN)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            payload = (await GQL(client, token).data(START, {"name": "memory"}))["startSync"]
        assert app.state.sync_runner.running == 1
    run_pk = int(base64.b64decode(payload["run"]["id"]).decode().split(":")[1])
    assert app.state.sync_runner.running == 0
    run = await container.sync_run_service().get(run_pk)
    assert run.status is SyncStatus.CANCELLED and run.finished_at is not None


async def test_skipped_objects_are_shown_apart_and_the_run_succeeds(
    gql: GQL, remote: MemoryIntegration
) -> None:
    remote.skipped.add(remote.add(person(99)))

    run = (await gql.data(START, {"name": "memory"}))["startSync"]["run"]
    done = await wait_for_end(gql, run["id"])

    query = (
        "query($id: ID!) { syncRun(id: $id) { skipped failed "
        "errors(first: 5) { nodes { integrationId skipped message } } } }"
    )
    found = (await gql.data(query, {"id": run["id"]}))["syncRun"]
    assert done["status"] == "SUCCEEDED"
    assert (found["skipped"], found["failed"]) == (1, 0)
    [node] = found["errors"]["nodes"]
    assert node["skipped"] and node["integrationId"] == "p12"
    assert "internal test account" in node["message"]
