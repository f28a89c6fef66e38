"""The Livestorm pull through core's SyncService, over real HTTP against the fake server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from leadbridge.contacts import ContactRow
from leadbridge.container import CoreContainer
from leadbridge.points import PointsService
from leadbridge.sync import SyncOptions, SyncStatus
from leadbridge_livestorm import LivestormStore, RegistrationRow, SessionRow
from leadbridge_livestorm.testing import (
    FakeLivestorm,
    RegistrationRecord,
    Workspace,
    generate_workspace,
)


@pytest.fixture
def workspace() -> Workspace:
    return generate_workspace(seed=5, events=2, sessions_per_event=2, people=120)


@pytest.fixture
def fake(workspace: Workspace) -> Iterator[FakeLivestorm]:
    with FakeLivestorm(workspace, rate_limit=None, job_delay=0.01) as server:
        yield server


async def configure(container: CoreContainer, fake: FakeLivestorm, **settings: object) -> None:
    await container.integration_settings_service().configure(
        "livestorm",
        settings={"base_url": fake.base_url, "requests_per_second": 50, "quota_reserve": 0}
        | settings,
        credentials={"api_token": fake.token},
        enabled=True,
    )


async def count(container: CoreContainer, what: object) -> int:
    async with container.session_factory()() as session:
        return int(await session.scalar(select(func.count()).select_from(what)) or 0)


async def emails(container: CoreContainer) -> set[str]:
    async with container.session_factory()() as session:
        return set((await session.scalars(select(ContactRow.email))).all())


def participants(workspace: Workspace) -> int:
    return sum(
        1
        for reg in workspace.iter_registrations()
        if reg.person.email and not reg.person.is_team_member
    )


async def test_first_sync_imports_unique_emails_with_registrations(
    container: CoreContainer, fake: FakeLivestorm, workspace: Workspace
) -> None:
    await configure(container, fake)
    result = await container.sync_service().start("livestorm")
    assert {e.lower() for e in await emails(container)} == {
        e.lower() for e in workspace.unique_emails()
    }
    assert await count(container, RegistrationRow) == participants(workspace)
    # People without email and team members are recorded as skipped, not imported: they
    # are no failure, the run succeeds.
    left_out = [
        r for r in workspace.iter_registrations() if not r.person.email or r.person.is_team_member
    ]
    assert left_out
    assert result.status == SyncStatus.SUCCEEDED, (result.error, result.failures[:3])
    assert result.counters.skipped == len(left_out) and result.counters.failed == 0
    assert all(f.skipped for f in result.failures)
    reasons = " ".join(f.message for f in result.failures)
    assert "no_email" in reasons and "team_member" in reasons
    [status] = await container.sync_run_service().status("livestorm")
    assert status.unresolved_errors == 0


def reads(fake: FakeLivestorm) -> list[str]:
    """``path?query`` of every request since the last reset (quota headers aside)."""
    return [f"{r.path}?{r.query}" if r.query else r.path for r in fake.requests]


def people_reads(fake: FakeLivestorm) -> list[str]:
    return [read for read in reads(fake) if "/people" in read]


async def test_second_sync_without_changes_writes_nothing(
    container: CoreContainer, fake: FakeLivestorm
) -> None:
    await configure(container, fake)
    await container.sync_service().start("livestorm")
    fake.reset_calls()
    again = await container.sync_service().start("livestorm")
    assert again.error is None
    assert again.counters.created == again.counters.updated == 0
    # The session list only (4 sessions: one page), within the window of 90 days.
    [listing] = fake.requests
    assert listing.path == "/sessions" and "filter%5Bdate_from%5D" in listing.query
    assert again.counters.api_calls == 1


async def _one_absent(workspace: Workspace) -> RegistrationRecord:
    return next(
        r
        for r in workspace.iter_registrations()
        if r.person.email and not r.person.is_team_member and not r.attended
    )


async def _stored(container: CoreContainer, reg: RegistrationRecord) -> RegistrationRow:
    async with container.session_factory()() as session:
        row = await session.scalar(
            select(RegistrationRow).where(
                RegistrationRow.session_id == reg.session_id,
                RegistrationRow.person_id == reg.person.id,
            )
        )
    assert row is not None
    return row


@pytest.mark.parametrize("stamps_sessions", [True, False], ids=["stamped", "counts-only"])
async def test_changed_attendance_is_picked_up_incrementally(
    container: CoreContainer, fake: FakeLivestorm, workspace: Workspace, stamps_sessions: bool
) -> None:
    # counts-only: Livestorm may not move a session's updated_at when a registration changes;
    # its attendees_count still does.
    workspace.registration_changes_stamp_sessions = stamps_sessions
    await configure(container, fake, session_window_days=365)
    await container.sync_service().start("livestorm")
    reg = await _one_absent(workspace)
    fake.advance(60)
    workspace.set_attendance(
        reg.session_id, reg.person.id, attended=True, attendance_rate=80, attendance_duration=1800
    )
    fake.reset_calls()
    result = await container.sync_service().start("livestorm")
    [people] = people_reads(fake)
    assert people.startswith(f"/sessions/{reg.session_id}/people?")
    assert "updated_since" in people  # honoured here: only what changed comes back
    assert result.counters.pulled == 1 and result.counters.failed == 0
    row = await _stored(container, reg)
    assert row.attended and row.attendance_rate == 80


async def test_an_ignored_people_filter_is_detected_and_not_used_again(
    container: CoreContainer, fake: FakeLivestorm, workspace: Workspace
) -> None:
    fake.ignore_updated_since = {"people", "sessions", "events"}
    await configure(container, fake, session_window_days=365)
    await container.sync_service().start("livestorm")
    first, second = [
        r
        for r in workspace.iter_registrations()
        if r.person.email and not r.person.is_team_member and not r.attended
    ][:2]

    fake.advance(60)
    workspace.set_attendance(first.session_id, first.person.id, attendance_rate=70)
    fake.reset_calls()
    await container.sync_service().start("livestorm")
    tried = people_reads(fake)
    fake.advance(60)
    workspace.set_attendance(second.session_id, second.person.id, attendance_rate=60)
    fake.reset_calls()
    await container.sync_service().start("livestorm")
    after = people_reads(fake)

    assert tried and all("updated_since" in read for read in tried)  # tried once…
    assert after and not any("updated_since" in read for read in after)  # …then not again
    assert {read.split("?")[0] for read in after} == {f"/sessions/{second.session_id}/people"}
    assert (await _stored(container, first)).attendance_rate == 70
    assert (await _stored(container, second)).attendance_rate == 60


async def test_a_new_registration_is_found_by_the_registrant_count(
    container: CoreContainer, fake: FakeLivestorm, workspace: Workspace
) -> None:
    workspace.registration_changes_stamp_sessions = False
    await configure(container, fake, session_window_days=365)
    await container.sync_service().start("livestorm")
    session = next(iter(workspace.sessions.values()))
    fake.advance(60)
    person = workspace.add_person("late@example.com", first_name="Late")
    workspace.register(session.id, person)
    fake.reset_calls()

    await container.sync_service().start("livestorm")

    assert {read.split("?")[0] for read in people_reads(fake)} == {f"/sessions/{session.id}/people"}
    assert "late@example.com" in await emails(container)


async def test_sessions_outside_the_window_are_not_listed(
    container: CoreContainer, fake: FakeLivestorm, workspace: Workspace
) -> None:
    await configure(container, fake)  # 90 days before the newest time seen
    await container.sync_service().start("livestorm")
    oldest = min(workspace.sessions.values(), key=lambda s: s.estimated_started_at)
    reg = next(r for r in oldest.registrations.values() if r.person.email and not r.attended)
    fake.advance(60)
    workspace.set_attendance(oldest.id, reg.person.id, attendance_rate=50)
    fake.reset_calls()

    await container.sync_service().start("livestorm")

    assert people_reads(fake) == []  # a late change to an old session: webhooks bring it
    assert (await _stored(container, reg)).attended is False


async def test_a_session_flagged_by_a_webhook_is_pulled_then_unflagged(
    container: CoreContainer, fake: FakeLivestorm, workspace: Workspace
) -> None:
    await configure(container, fake, session_window_days=365)
    await container.sync_service().start("livestorm")
    session = next(iter(workspace.sessions.values()))
    async with container.session_factory().begin() as db:
        await LivestormStore().request_pull(db, session.id)  # what session.ended does
    fake.reset_calls()

    await container.sync_service().start("livestorm", SyncOptions(dry_run=True))
    dry = people_reads(fake)
    fake.reset_calls()
    await container.sync_service().start("livestorm")
    pulled = people_reads(fake)
    fake.reset_calls()
    await container.sync_service().start("livestorm")

    expected = {f"/sessions/{session.id}/people"}
    assert {read.split("?")[0] for read in dry} == expected  # a dry run serves no flag
    assert {read.split("?")[0] for read in pulled} == expected
    assert people_reads(fake) == []  # served: the flag is gone
    async with container.session_factory()() as db:
        row = await db.get(SessionRow, session.id)
    assert row is not None and row.pull_requested_at is None


async def test_quota_reserve_stops_partial_and_next_run_continues(
    container: CoreContainer, fake: FakeLivestorm, workspace: Workspace
) -> None:
    await configure(container, fake, quota_reserve=100)
    fake.reset_quota(remaining=104)  # a few calls, then the reserve is reached
    first = await container.sync_service().start("livestorm")
    assert first.status == SyncStatus.PARTIAL
    assert "quota" in " ".join(f.message for f in first.failures).lower()
    imported = len(await emails(container))
    assert 0 < imported < len(workspace.unique_emails())
    fake.reset_quota()
    second = await container.sync_service().start("livestorm")
    assert second.error is None
    assert {e.lower() for e in await emails(container)} == {
        e.lower() for e in workspace.unique_emails()
    }


async def test_unauthorized_fails_the_run_and_moves_no_cursor(
    container: CoreContainer, fake: FakeLivestorm
) -> None:
    await configure(container, fake)
    fake.revoke_token()
    result = await container.sync_service().start("livestorm")
    assert result.status == SyncStatus.FAILED
    assert "401" in (result.error or "") and "ping" in (result.error or "")
    assert await count(container, ContactRow) == 0


async def test_point_actions_award_once(
    container: CoreContainer, fake: FakeLivestorm, workspace: Workspace
) -> None:
    await configure(container, fake)
    points: PointsService = container.points_service()
    await points.create_action("Registered", "livestorm.registered", delta=5)
    await points.create_action("Attended", "livestorm.attended", delta=10)
    await container.sync_service().start("livestorm")
    await container.sync_service().start("livestorm", SyncOptions(full=True))  # replays all
    contacts = len(await emails(container))
    attendees = {
        r.person.email.lower()
        for r in workspace.iter_registrations()
        if r.person.email and not r.person.is_team_member and r.attended
    }
    async with container.session_factory()() as session:
        total = await session.scalar(select(func.sum(ContactRow.points)))
    assert attendees and total == 5 * contacts + 10 * len(attendees)
