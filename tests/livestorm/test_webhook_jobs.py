"""PostgreSQL: a delivery is stored and queued in one transaction, answered at once, and a
real worker applies it once — retried when applying fails."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Sequence

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from leadbridge import CoreContainer
from leadbridge.jobs import JobCatalog, JobErrorRow, JobQueue, JobStatus
from leadbridge_livestorm import (
    WEBHOOK_JOB,
    RegistrationChange,
    RegistrationRow,
    WebhookDeliveryRow,
    WebhookJob,
    WebhookReceiver,
    signature_header_value,
    webhook_app,
)
from leadbridge_livestorm.testing import FakeLivestorm, Workspace

from .conftest import run_queued_webhooks


class FailingOnce:
    """A point action hook that fails on its first ``failures`` calls, then records the
    changes."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0
        self.changes: list[RegistrationChange] = []

    async def __call__(self, changes: Sequence[RegistrationChange], db: AsyncSession) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError("the points service is down")
        self.changes.extend(changes)


@pytest.fixture
def hook() -> FailingOnce:
    return FailingOnce(failures=0)


@pytest_asyncio.fixture
async def queued(
    container: CoreContainer, fake: FakeLivestorm, hook: FailingOnce
) -> AsyncIterator[tuple[httpx.AsyncClient, JobQueue]]:
    """The receiver over HTTP with a job queue whose retries wait milliseconds."""
    receiver = WebhookReceiver(
        secret=fake.webhook_secret,
        session_factory=container.session_factory(),
        contact_service=container.contact_service(),
        on_changes=hook,
        job_queue=lambda: queue,  # the queue's catalog holds the receiver's job: built next
    )
    catalog = JobCatalog(
        container.sync_service(),
        container.segment_service(),
        container.change_log_service(),
        plugin_kinds=[WebhookJob(receiver)],
    )
    queue = JobQueue(
        container.settings().database_url,
        catalog,
        container.schedule_service(),
        container.session_factory(),
        backoff_base=0.01,
    )
    if not queue.available:
        pytest.skip("deliveries become jobs on PostgreSQL only")
    transport = httpx.ASGITransport(app=webhook_app(receiver))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as client:
            yield client, queue
    finally:
        await queue.close()


def _delivery(fake: FakeLivestorm, workspace: Workspace) -> tuple[bytes, dict[str, str]]:
    session = next(s for s in workspace.sessions.values() if s.status == "past")
    person = next(r.person for r in session.registrations.values() if r.person.email)
    document = fake.webhook_payload("people.registered", session_id=session.id, person_id=person.id)
    body = json.dumps(document).encode()
    stamp = int(time.time())
    return body, {"x-livestorm-signature": signature_header_value(stamp, fake.webhook_secret, body)}


async def _count(container: CoreContainer, model: type[object]) -> int:
    async with container.session_factory()() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_delivery_is_stored_and_answered_before_a_worker_applies_it_once(
    container: CoreContainer,
    fake: FakeLivestorm,
    workspace: Workspace,
    queued: tuple[httpx.AsyncClient, JobQueue],
    hook: FailingOnce,
) -> None:
    client, queue = queued
    body, headers = _delivery(fake, workspace)

    answer = await client.post("/", content=body, headers=headers)

    assert (answer.status_code, answer.json()["outcome"]) == (202, "queued")
    assert await _count(container, WebhookDeliveryRow) == 1
    assert await _count(container, RegistrationRow) == 0  # not applied in the request
    assert await queue.count(status=JobStatus.TODO, kind=WEBHOOK_JOB) == 1

    await run_queued_webhooks(queue)

    assert await _count(container, RegistrationRow) == 1
    assert len(hook.changes) == 1
    assert await queue.count(status=JobStatus.SUCCEEDED, kind=WEBHOOK_JOB) == 1


async def test_a_replayed_delivery_is_stored_once_and_applied_once(
    container: CoreContainer,
    fake: FakeLivestorm,
    workspace: Workspace,
    queued: tuple[httpx.AsyncClient, JobQueue],
    hook: FailingOnce,
) -> None:
    client, queue = queued
    body, headers = _delivery(fake, workspace)

    first = await client.post("/", content=body, headers=headers)
    replayed = await client.post("/", content=body, headers=headers)
    await run_queued_webhooks(queue)
    after_processing = await client.post("/", content=body, headers=headers)
    await run_queued_webhooks(queue)

    statuses = [first.status_code, replayed.status_code, after_processing.status_code]
    assert statuses == [202, 200, 200]
    assert replayed.json()["outcome"] == after_processing.json()["outcome"] == "duplicate"
    assert await _count(container, WebhookDeliveryRow) == 1
    assert await queue.count(kind=WEBHOOK_JOB) == 1
    assert hook.calls == 1 and len(hook.changes) == 1
    assert await _count(container, RegistrationRow) == 1


async def test_a_failed_processing_is_retried_until_it_applies(
    container: CoreContainer,
    fake: FakeLivestorm,
    workspace: Workspace,
    queued: tuple[httpx.AsyncClient, JobQueue],
    hook: FailingOnce,
) -> None:
    client, queue = queued
    body, headers = _delivery(fake, workspace)
    hook.failures = 2

    answer = await client.post("/", content=body, headers=headers)
    await run_queued_webhooks(queue)

    assert answer.status_code == 202
    assert hook.calls == 3, hook.calls  # two failures, each kept nothing, then applied
    assert len(hook.changes) == 1
    assert await _count(container, RegistrationRow) == 1
    (job,) = await queue.jobs(kind=WEBHOOK_JOB)
    assert job.status == JobStatus.SUCCEEDED
    assert job.attempts == 3
    assert await _count(container, JobErrorRow) == 1  # the last failure, kept for the listing
