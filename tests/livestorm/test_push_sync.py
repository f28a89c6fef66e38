"""Registration push through the sync engine: a segment registered on a session by a sync run."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from leadbridge.contacts import ContactRow
from leadbridge.container import CoreContainer
from leadbridge.sync import SyncErrorRow, SyncObjectMappingRow, SyncOptions, SyncStatus
from leadbridge_livestorm import RegistrationRow, registration_object
from leadbridge_livestorm.testing import FakeLivestorm, SessionRecord, Workspace, generate_workspace

from .test_sync import configure

PUSH_ONLY = SyncOptions(push_only=True)


@pytest.fixture
def workspace() -> Workspace:
    return generate_workspace(seed=11, events=2, sessions_per_event=2, people=80)


def upcoming(workspace: Workspace) -> SessionRecord:
    return next(s for s in workspace.sessions.values() if s.status == "upcoming")


def registered_emails(session: SessionRecord) -> set[str]:
    return {r.person.email.lower() for r in session.registrations.values() if r.person.email}


def invitees_on(session_id: str) -> list[dict[str, str]]:
    """The ``registration_push`` setting: segment ``invitees`` registered on ``session_id``."""
    return [{"segment": "invitees", "session_id": session_id}]


async def segment_of(container: CoreContainer, alias: str, emails: list[str]) -> dict[str, int]:
    """Contacts for ``emails`` (with a company) made the members of segment ``alias``."""
    result = await container.contact_service().bulk_upsert(
        {"email": e, "first_name": e.split("@")[0].title(), "company": "Acme"} for e in emails
    )
    segments = container.segment_service()
    await segments.create("Webinar invitees", alias=alias)
    await segments.add_contacts(alias, result.ids.values())
    return {e: result.ids[e.lower()] for e in emails}


async def mappings(container: CoreContainer, session_id: str) -> dict[int, str]:
    async with container.session_factory()() as db:
        rows = await db.execute(
            select(SyncObjectMappingRow.contact_id, SyncObjectMappingRow.integration_id).where(
                SyncObjectMappingRow.integration == "livestorm",
                SyncObjectMappingRow.object == registration_object(session_id),
            )
        )
        return {int(cid): iid for cid, iid in rows.all()}


async def test_a_sync_registers_the_segment_and_takes_409s_as_already_registered(
    container: CoreContainer, fake: FakeLivestorm, workspace: Workspace
) -> None:
    session = upcoming(workspace)
    taken = sorted(registered_emails(session))[:4]  # in Livestorm already, unknown here
    new = [f"invitee{i}@example.com" for i in range(57)]
    ids = await segment_of(container, "invitees", new + taken)
    await configure(container, fake, registration_push=invitees_on(session.id))

    result = await container.sync_service().start("livestorm", PUSH_ONLY)

    assert result.status == SyncStatus.SUCCEEDED, (result.error, result.failures)
    assert result.counters.pushed == len(ids) and result.counters.failed == 0
    assert {e.lower() for e in new} <= registered_emails(session)
    # two bulk jobs (50 + 11): the taken emails came back as conflicts, not as failures
    assert fake.call_count("POST", "/sessions/*/people/bulk") == 2
    assert fake.call_count("POST", "/sessions/*/people") == 0
    assert result.counters.api_calls >= 2
    # every member is recorded as registered (409s included), under its email
    assert await mappings(container, session.id) == {cid: e.lower() for e, cid in ids.items()}
    async with container.session_factory()() as db:
        query = select(RegistrationRow).where(RegistrationRow.session_id == session.id)
        rows = (await db.scalars(query)).all()
    assert {r.contact_id for r in rows} >= set(ids.values())
    person = workspace.find_person("invitee0@example.com")
    assert person is not None
    assert workspace.registration(session.id, person.id).answers.get("company") == "Acme"


async def test_a_second_run_sends_nothing_and_a_new_member_is_registered_alone(
    container: CoreContainer, fake: FakeLivestorm, workspace: Workspace
) -> None:
    session = upcoming(workspace)
    await segment_of(container, "invitees", [f"first{i}@example.com" for i in range(5)])
    await configure(container, fake, registration_push=invitees_on(session.id))
    await container.sync_service().start("livestorm", PUSH_ONLY)
    fake.reset_calls()

    again = await container.sync_service().start("livestorm", PUSH_ONLY)

    assert again.status == SyncStatus.SUCCEEDED and again.counters.pushed == 0
    assert fake.calls == []
    late = await container.contact_service().create("late@example.com")
    await container.segment_service().add_contacts("invitees", [late.id])

    third = await container.sync_service().start("livestorm", PUSH_ONLY)

    assert third.counters.pushed == 1
    assert "late@example.com" in registered_emails(session)
    assert fake.call_count("POST", "/sessions/*/people/bulk") == 1


async def test_a_refused_registration_is_recorded_and_retried_by_the_next_run(
    container: CoreContainer, fake: FakeLivestorm, workspace: Workspace
) -> None:
    session = upcoming(workspace)
    ids = await segment_of(container, "invitees", ["one@example.com", "two@example.com"])
    await configure(container, fake, registration_push=invitees_on(session.id))
    # The bulk job cannot be created, then Livestorm refuses the first single registration.
    fake.fail_next(1, 500, method="POST", path="/sessions/*/people/bulk")
    fake.fail_next(1, 422, method="POST", path="/sessions/*/people", detail="Domain refused")

    result = await container.sync_service().start("livestorm", PUSH_ONLY)

    assert result.status == SyncStatus.PARTIAL
    assert result.counters.pushed == 1 and result.counters.failed == 1
    [failure] = result.failures
    assert failure.contact_id == ids["one@example.com"] and "Domain refused" in failure.message
    assert failure.object == registration_object(session.id)
    assert "one@example.com" not in registered_emails(session)

    retry = await container.sync_service().start("livestorm", PUSH_ONLY)

    assert retry.status == SyncStatus.SUCCEEDED and retry.counters.pushed == 1
    assert "one@example.com" in registered_emails(session)
    async with container.session_factory()() as db:
        open_errors = (
            await db.scalars(select(SyncErrorRow).where(SyncErrorRow.resolved_at.is_(None)))
        ).all()
    assert open_errors == []


async def test_a_missing_segment_names_itself_and_other_pairs_still_push(
    container: CoreContainer, fake: FakeLivestorm, workspace: Workspace
) -> None:
    session = upcoming(workspace)
    await segment_of(container, "invitees", ["ok@example.com"])
    missing = {"segment": "no-such-segment", "session_id": session.id}
    await configure(container, fake, registration_push=[missing, *invitees_on(session.id)])

    result = await container.sync_service().start("livestorm", PUSH_ONLY)

    assert result.status == SyncStatus.PARTIAL
    assert result.counters.pushed == 1 and result.counters.failed == 1
    assert "segment 'no-such-segment' does not exist" in result.failures[0].message
    assert "ok@example.com" in registered_emails(session)


async def test_a_session_livestorm_does_not_know_fails_its_members_not_the_run(
    container: CoreContainer, fake: FakeLivestorm
) -> None:
    ids = await segment_of(container, "invitees", ["a@example.com", "b@example.com"])
    await configure(container, fake, registration_push=invitees_on("no-such-session"))

    result = await container.sync_service().start("livestorm", PUSH_ONLY)

    assert result.status == SyncStatus.PARTIAL
    assert {f.contact_id for f in result.failures} == set(ids.values())
    assert all("no-such-session was not found" in f.message for f in result.failures)


async def test_a_bad_token_fails_the_run_with_livestorms_reason(
    container: CoreContainer, fake: FakeLivestorm, workspace: Workspace
) -> None:
    await segment_of(container, "invitees", ["a@example.com"])
    await configure(container, fake, registration_push=invitees_on(upcoming(workspace).id))
    fake.revoke_token()

    result = await container.sync_service().start("livestorm", PUSH_ONLY)

    assert result.status == SyncStatus.FAILED
    assert result.error is not None and "401" in result.error and fake.token not in result.error


async def test_registered_points_are_awarded_once_for_pushed_registrations(
    container: CoreContainer, fake: FakeLivestorm, workspace: Workspace
) -> None:
    session = upcoming(workspace)
    ids = await segment_of(container, "invitees", ["p1@example.com", "p2@example.com"])
    await container.points_service().create_action("Registered", "livestorm.registered", delta=5)
    await configure(container, fake, registration_push=invitees_on(session.id))

    await container.sync_service().start("livestorm", PUSH_ONLY)
    await container.sync_service().start("livestorm")  # the pull sees the same registrations

    async with container.session_factory()() as db:
        points = dict((await db.execute(select(ContactRow.id, ContactRow.points))).all())
    assert [points[cid] for cid in ids.values()] == [5, 5]


async def test_a_dry_run_registers_nobody(
    container: CoreContainer, fake: FakeLivestorm, workspace: Workspace
) -> None:
    session = upcoming(workspace)
    await segment_of(container, "invitees", ["dry@example.com"])
    await configure(container, fake, registration_push=invitees_on(session.id))

    result = await container.sync_service().start(
        "livestorm", SyncOptions(push_only=True, dry_run=True)
    )

    assert result.counters.pushed == 1
    assert "dry@example.com" not in registered_emails(session)
    assert fake.call_count("POST") == 0
    assert await mappings(container, session.id) == {}
