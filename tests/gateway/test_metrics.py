"""``/metrics`` after real work: a Livestorm sync over HTTP, GraphQL requests, refusals."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest
from dependency_injector import providers

from leadbridge import CoreContainer, Settings
from leadbridge.container import shutdown
from leadbridge.jobs import JobKind
from leadbridge.sync import SyncStatus
from leadbridge_gateway import GatewaySettings, create_app
from leadbridge_livestorm.testing import FakeLivestorm, generate_workspace
from tests._metrics import Samples, parse_metrics, sample
from tests.livestorm.test_sync import configure

from .conftest import GQL


async def scrape(client: httpx.AsyncClient, **headers: str) -> Samples:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return parse_metrics(response.text)


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def fake() -> Iterator[FakeLivestorm]:
    workspace = generate_workspace(seed=5, events=1, sessions_per_event=2, people=60)
    with FakeLivestorm(workspace, rate_limit=None, job_delay=0.01) as server:
        yield server


async def test_a_sync_shows_its_counters_calls_429s_and_quota(
    container: CoreContainer, fake: FakeLivestorm, client: httpx.AsyncClient
) -> None:
    await configure(container, fake)
    before = await scrape(client)
    fake.throttle_next(1, retry_after=0)  # the first call is refused once, then retried
    result = await container.sync_service().start("livestorm")
    assert result.status == SyncStatus.SUCCEEDED, result.error
    after = await scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    ls = {"integration": "livestorm"}
    assert delta("leadbridge_sync_runs_total", status="succeeded", **ls) == 1
    assert delta("leadbridge_sync_run_duration_seconds_count", **ls) == 1
    counters = result.counters
    assert counters.pulled > 0 and counters.created > 0
    for outcome in ("pulled", "created", "updated", "pushed", "skipped", "failed"):
        assert delta("leadbridge_sync_objects_total", outcome=outcome, **ls) == getattr(
            counters, outcome
        ), outcome
    assert delta("leadbridge_remote_api_rate_limited_total", **ls) == 1
    assert delta("leadbridge_remote_api_retries_total", **ls) >= 1
    calls = sum(
        v - before.get(key, 0.0)
        for key, v in after.items()
        if key[0] == "leadbridge_remote_api_calls_total" and ("integration", "livestorm") in key[1]
    )
    assert calls == counters.api_calls  # the same calls the run counted, 429 included
    assert delta("leadbridge_remote_api_calls_total", method="GET", status_code="429", **ls) == 1
    assert value(after, "leadbridge_remote_api_quota_remaining", window="monthly", **ls) == (
        fake.monthly_remaining
    )
    finished = result.finished_at
    assert finished is not None
    assert value(after, "leadbridge_sync_last_success_timestamp_seconds", **ls) == pytest.approx(
        finished.timestamp()
    )


async def test_graphql_durations_errors_and_rejections(
    client: httpx.AsyncClient, token: str
) -> None:
    gql = GQL(client, token)
    before = await scrape(client)
    await gql("{ contacts(first: 1) { totalCount } }")
    nesting = "contacts(first: 1) { edges { node { "
    nested = "query Deep { " + nesting * 8 + "id" + " } } }" * 8 + " }"
    doc = await gql(nested, status=200)
    assert doc["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "depth" in doc["errors"][0]["message"], doc
    await gql("{ contacts(first: 1) { totalCount } }", token=False)
    after = await scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("leadbridge_graphql_rejected_total", limit="depth") == 1
    refused = len(doc["errors"])  # the depth error, and any other the document has
    assert delta("leadbridge_graphql_errors_total", code="GRAPHQL_VALIDATION_FAILED") == refused
    assert delta("leadbridge_graphql_errors_total", code="UNAUTHENTICATED") >= 1
    assert delta("leadbridge_graphql_request_duration_seconds_count", operation_type="query") == 3
    assert "leadbridge_db_pool_connections_in_use" in {name for name, _ in after}


async def test_the_job_queue_shows_on_postgresql(
    container: CoreContainer, client: httpx.AsyncClient, db_backend: str
) -> None:
    if db_backend == "sqlite":  # the embedded runner serves them from the worker
        assert "leadbridge_jobs_queued" not in (await client.get("/metrics")).text
        return
    async with container.job_queue() as queue:  # no worker runs: they wait
        await queue.defer(JobKind.SEGMENTS, {"alias": None})
        await queue.defer(JobKind.PRUNE, {})
        await queue.defer(JobKind.PRUNE, {})
    samples = await scrape(client)
    assert sample(samples, "leadbridge_jobs_queue_up") == 1
    for kind, queued in (("segments", 1), ("prune", 2), ("sync", 0)):
        assert sample(samples, "leadbridge_jobs_queued", kind=kind) == queued, kind
        assert sample(samples, "leadbridge_jobs_running", kind=kind) == 0, kind
    oldest = sample(samples, "leadbridge_jobs_oldest_queued_age_seconds", kind="prune")
    assert oldest is not None and oldest > 0
    assert sample(samples, "leadbridge_jobs_workers") is not None


async def test_a_scrape_answers_while_the_database_is_down(settings: Settings) -> None:
    with socket.socket() as closed:  # a port nobody listens on once this block ends
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    url = f"postgresql+asyncpg://leadbridge@127.0.0.1:{port}/leadbridge"
    core = CoreContainer(settings=providers.Object(replace(settings, database_url=url)))
    app = create_app(core, GatewaySettings())
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            samples = await scrape(client)
            assert (await client.get("/readyz")).status_code == 503
    finally:
        await shutdown(core)
    assert sample(samples, "leadbridge_jobs_queue_up") == 0
    assert sample(samples, "leadbridge_jobs_queued", kind="sync") is None


class TestMetricsToken:
    @pytest.fixture
    def gateway_settings(self) -> GatewaySettings:
        return GatewaySettings(metrics_token="scrape-secret-0042")

    async def test_a_metrics_token_is_required_once_set(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/metrics")).status_code == 401
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert "scrape-secret-0042" not in wrong.text
        await scrape(client, Authorization="Bearer scrape-secret-0042")
