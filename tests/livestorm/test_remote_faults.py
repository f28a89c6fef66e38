"""Faults from the remote API met by a whole sync run, and core's exchange contract run
against the Livestorm exchange and the fake Livestorm."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from sqlalchemy import select

from leadbridge.container import CoreContainer
from leadbridge.sync import BaseDataExchange, MappingManual, RegistryTargetResolver, SyncStatus
from leadbridge.testing.contract import ExchangeContract
from leadbridge_livestorm import RegistrationRow
from leadbridge_livestorm.testing import BodyFault, FakeLivestorm, Workspace, generate_workspace

from .test_sync import configure, emails


@pytest.fixture
def workspace() -> Workspace:
    return generate_workspace(seed=5, events=2, sessions_per_event=2, people=120)


@pytest.fixture
def fake(workspace: Workspace) -> Iterator[FakeLivestorm]:
    with FakeLivestorm(workspace, rate_limit=None, job_delay=0.01) as server:
        yield server


async def test_api_calls_equal_the_requests_the_fake_served_retries_included(
    container: CoreContainer, fake: FakeLivestorm
) -> None:
    await configure(container, fake, rate_limit_budget=30)
    fake.fail_next(1, 503, path="/sessions/*/people")
    fake.throttle_next(2, retry_after=0, path="/sessions")
    fake.break_next_body(1, BodyFault.RESET, path="/sessions/*/people")
    result = await container.sync_service().start("livestorm")
    assert result.status == SyncStatus.SUCCEEDED, result.error
    assert result.counters.api_calls == len(fake.requests)
    assert [r.status for r in fake.requests].count(429) == 2

    fake.reset_calls()
    quiet = await container.sync_service().start("livestorm")  # nothing changed
    assert len(fake.requests) >= 1
    assert quiet.counters.api_calls == len(fake.requests)


async def test_a_failed_run_reports_every_call_and_names_the_broken_answer(
    container: CoreContainer, fake: FakeLivestorm
) -> None:
    await configure(container, fake)
    fake.break_next_body(1, BodyFault.HTML, path="/sessions/*/people")
    result = await container.sync_service().start("livestorm")
    assert result.status == SyncStatus.FAILED
    error = result.error or ""
    assert "GET /v1/sessions/" in error and "text/html" in error and "<!DOCTYPE html>" in error
    assert "page[" not in error  # the call without its query
    assert result.counters.api_calls == len(fake.requests)


async def test_429s_past_the_budget_end_the_run_partial_and_the_next_run_finishes(
    container: CoreContainer, fake: FakeLivestorm, workspace: Workspace
) -> None:
    await configure(container, fake, rate_limit_budget=0.2)
    fake.throttle_next(50, retry_after=1, path="/sessions/*/people")
    first = await container.sync_service().start("livestorm")
    assert first.status == SyncStatus.PARTIAL, first.error
    assert "rate-limiting" in " ".join(f.message for f in first.failures)
    assert first.counters.api_calls == len(fake.requests)
    fake.clear_faults()
    second = await container.sync_service().start("livestorm")
    assert second.status == SyncStatus.SUCCEEDED, second.error
    assert {e.lower() for e in await emails(container)} == {
        e.lower() for e in workspace.unique_emails()
    }


class TestLivestormExchange(ExchangeContract):
    """Core's contract suite against ``LivestormExchange`` talking to the fake Livestorm."""

    @pytest_asyncio.fixture
    async def target(
        self, container: CoreContainer, fake: FakeLivestorm
    ) -> AsyncIterator[tuple[BaseDataExchange, MappingManual]]:
        await configure(container, fake)
        resolved = await RegistryTargetResolver(
            container.integration_registry(), container.integration_settings_service()
        )("livestorm")
        yield resolved.exchange, resolved.manual

    @pytest.fixture
    def exchange(self, target: tuple[BaseDataExchange, MappingManual]) -> BaseDataExchange:
        return target[0]

    @pytest.fixture
    def manual(self, target: tuple[BaseDataExchange, MappingManual]) -> MappingManual:
        return target[1]

    async def prepare_store(self, container: CoreContainer) -> None:
        await container.custom_field_service().define("job_title", "text", label="Job title")


async def test_fractional_attendance_is_pulled_rounded_not_refused(
    container: CoreContainer, fake: FakeLivestorm, workspace: Workspace
) -> None:
    session = next(s for s in workspace.sessions.values() if s.status == "past")
    registration = next(
        r for r in session.registrations.values() if r.person.email and not r.person.is_team_member
    )
    workspace.set_attendance(
        session.id, registration.person.id, attendance_rate=87.5, attendance_duration=1234.4
    )
    await configure(container, fake)
    result = await container.sync_service().start("livestorm")
    assert result.status == SyncStatus.SUCCEEDED, result.error
    async with container.session_factory()() as db:
        row = await db.scalar(
            select(RegistrationRow).where(
                RegistrationRow.session_id == session.id,
                RegistrationRow.person_id == registration.person.id,
            )
        )
    assert row is not None and row.attended
    assert (row.attendance_rate, row.attendance_duration) == (88, 1234)
