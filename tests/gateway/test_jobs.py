"""Schedules and the job queue over GraphQL; startSync and cancelSync only queue on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from leadbridge import CoreContainer, Scope
from leadbridge.sync import SyncStatus, SyncTarget, register_sync_target, unregister_sync_target
from leadbridge.testing import MemoryIntegration, define_memory_fields

from .conftest import GQL, MakeToken, codes

SCHEDULE = "id kind target cron timezone enabled nextDueAt lastFiredAt lastOutcome"
CREATE = (
    "mutation($input: ScheduleInput!) { createSchedule(input: $input) { "
    f"schedule {{ {SCHEDULE} }} userErrors {{ field message code }} }} }}"
)
UPDATE = (
    "mutation($id: ID!, $input: ScheduleUpdateInput!) { updateSchedule(id: $id, input: $input) "
    f"{{ schedule {{ {SCHEDULE} }} userErrors {{ field message code }} }} }}"
)
START = (
    'mutation { startSync(integration: "memory") { run { id status trigger } '
    "userErrors { field message code } } }"
)
JOBS = (
    "query($status: JobStatus) { jobs(status: $status) { totalCount "
    "nodes { id kind target status attempts runId lastError } } }"
)


async def test_schedules_are_created_listed_changed_and_deleted(gql: GQL) -> None:
    hourly = {"kind": "sync", "target": "memory", "cron": "0 * * * *"}
    made = (await gql.data(CREATE, {"input": hourly}))["createSchedule"]
    assert made["userErrors"] == []
    schedule = made["schedule"]
    assert (schedule["kind"], schedule["target"], schedule["timezone"]) == ("sync", "memory", "UTC")
    assert schedule["nextDueAt"].endswith(":00:00+00:00")

    paused = (await gql.data(UPDATE, {"id": schedule["id"], "input": {"enabled": False}}))[
        "updateSchedule"
    ]["schedule"]
    assert paused["enabled"] is False and paused["cron"] == "0 * * * *"
    listed = (await gql.data(f"{{ schedules {{ {SCHEDULE} }} }}"))["schedules"]
    assert listed == [paused]
    node = await gql.data(
        "query($id: ID!) { node(id: $id) { ... on Schedule { cron } } }", {"id": schedule["id"]}
    )
    assert node["node"] == {"cron": "0 * * * *"}

    deleted = await gql.data(
        "mutation($id: ID!) { deleteSchedule(id: $id) { deletedScheduleId userErrors { code } } }",
        {"id": schedule["id"]},
    )
    assert deleted["deleteSchedule"] == {"deletedScheduleId": schedule["id"], "userErrors": []}
    assert (await gql.data("{ schedules { id } }"))["schedules"] == []


async def test_a_bad_schedule_is_a_user_error_naming_the_field(gql: GQL) -> None:
    bad = (await gql.data(CREATE, {"input": {"kind": "sync", "target": "m", "cron": "* * *"}}))[
        "createSchedule"
    ]
    assert bad["schedule"] is None
    [error] = bad["userErrors"]
    assert (error["field"], error["code"]) == (["input", "cron"], "INVALID")
    assert "'* * *'" in error["message"]
    zone = (
        await gql.data(
            CREATE, {"input": {"kind": "prune", "cron": "* * * * *", "timezone": "Nowhere/City"}}
        )
    )["createSchedule"]["userErrors"]
    assert [(e["field"], e["code"]) for e in zone] == [(["input", "timezone"], "INVALID")]
    missing = (await gql.data(UPDATE, {"id": "U2NoZWR1bGU6OTk5", "input": {"enabled": True}}))[
        "updateSchedule"
    ]["userErrors"]
    assert [e["code"] for e in missing] == ["NOT_FOUND"]


async def test_schedule_mutations_need_integrations_write(gql: GQL, make_token: MakeToken) -> None:
    reader = await make_token(Scope.INTEGRATIONS_READ)
    doc = await gql(CREATE, {"input": {"kind": "prune", "cron": "* * * * *"}}, token=reader)
    assert codes(doc) == ["FORBIDDEN"]
    assert (await gql.data("{ schedules { id } }"))["schedules"] == []


@pytest_asyncio.fixture
async def remote(container: CoreContainer) -> AsyncIterator[MemoryIntegration]:
    await define_memory_fields(container.custom_field_service())
    memory = MemoryIntegration(page_size=5)
    for i in range(12):
        memory.add({"emailAddress": f"q{i}@example.com"})
    register_sync_target("memory", lambda: SyncTarget(memory.exchange(), memory.manual()))
    yield memory
    unregister_sync_target("memory")


async def test_on_postgres_start_sync_queues_collapses_and_cancel_cancels_the_job(
    gql: GQL, remote: MemoryIntegration, container: CoreContainer, db_backend: str
) -> None:
    if db_backend != "postgres":
        pytest.skip("the queue is PostgreSQL's")
    first = (await gql.data(START))["startSync"]
    assert first["userErrors"] == []
    assert (first["run"]["status"], first["run"]["trigger"]) == ("QUEUED", "api")
    again = (await gql.data(START))["startSync"]["run"]
    assert again["id"] == first["run"]["id"], "a sync already waiting absorbs the second"

    jobs = (await gql.data(JOBS))["jobs"]
    assert jobs["totalCount"] == 1
    [job] = jobs["nodes"]
    assert (job["kind"], job["target"], job["status"], job["runId"]) == (
        "sync",
        "memory",
        "TODO",
        first["run"]["id"],
    )
    assert remote.api_calls == 0, "no sync ran inside the gateway process"

    cancelled = await gql.data(
        "mutation($id: ID!) { cancelSync(id: $id) { run { status finishedAt } "
        "userErrors { code } } }",
        {"id": first["run"]["id"]},
    )
    run = cancelled["cancelSync"]["run"]
    assert run["status"] == "CANCELLED" and run["finishedAt"] is not None
    assert [n["status"] for n in (await gql.data(JOBS))["jobs"]["nodes"]] == ["CANCELLED"]
    assert (await gql.data(JOBS, {"status": "TODO"}))["jobs"]["totalCount"] == 0
    stored = await container.sync_run_service().runs("memory")
    assert [r.status for r in stored] == [SyncStatus.CANCELLED]


async def test_on_sqlite_there_is_no_queue(
    gql: GQL, remote: MemoryIntegration, db_backend: str
) -> None:
    if db_backend != "sqlite":
        pytest.skip("SQLite behaviour")
    remote.page_delay = 0.2
    started: dict[str, Any] = (await gql.data(START))["startSync"]
    assert started["run"]["status"] in ("RUNNING", "SUCCEEDED"), "it runs in this process"
    assert (await gql.data(JOBS))["jobs"] == {"totalCount": 0, "nodes": []}
