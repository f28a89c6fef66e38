"""Registration: bulk jobs polled to their end, 409s, the single fallback, the push."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from leadbridge import CoreContainer
from leadbridge._errors import ValidationError
from leadbridge_livestorm import (
    BulkJobError,
    ContactToRegister,
    LivestormAuthenticationError,
    LivestormClient,
    LivestormNotFoundError,
    LivestormStore,
    Registrant,
    RegistrationPusher,
    RegistrationRow,
    SessionRow,
)
from leadbridge_livestorm.testing import FakeLivestorm, SessionRecord, TaskShape, Workspace

from .conftest import make_client

JOB_POLL = re.compile(r"^/jobs/[^/]+$")


def _session(workspace: Workspace) -> SessionRecord:
    return next(s for s in workspace.sessions.values() if s.status == "upcoming")


def _registered_emails(session: SessionRecord) -> list[str]:
    return [r.person.email for r in session.registrations.values() if r.person.email]


# -- the client's bulk endpoint ---------------------------------------------------------------


async def test_a_bulk_job_is_polled_to_its_end_and_reports_each_item(
    fake: FakeLivestorm, workspace: Workspace
) -> None:
    session = _session(workspace)
    taken = _registered_emails(session)[:2]
    people = [Registrant(f"new{i}@example.com", first_name=f"N{i}") for i in range(3)]
    people += [Registrant(email) for email in taken]
    fake.job_delay = 0.3
    async with make_client(fake, job_poll_interval=0.02, job_poll_max_interval=0.1) as client:
        bulk = await client.register_bulk(session.id, people)

    polls = [r for r in fake.requests if r.method == "GET" and JOB_POLL.match(r.path)]
    results = bulk.results()
    # "failed": at least one item failed (the two already registered), as Livestorm says
    assert bulk.job.status == "failed" and bulk.job.total_items == 5
    assert len(polls) >= 2  # it waited for the job, asking more than once
    assert fake.call_count("POST", "/sessions/*/people/bulk") == 1
    assert [task.status if task else None for _, task in results] == ["succeeded"] * 3 + [
        "failed"
    ] * 2
    assert [task.already_registered for _, task in results if task] == [False] * 3 + [True] * 2
    for registrant, task in results[:3]:
        assert task is not None
        assert workspace.registration(session.id, task.person_id or "").person.email == (
            registrant.email
        )


@pytest.mark.parametrize("count", [0, 51])
async def test_a_bulk_job_takes_one_to_fifty_people(
    fake: FakeLivestorm, livestorm: LivestormClient, workspace: Workspace, count: int
) -> None:
    people = [Registrant(f"p{i}@example.com") for i in range(count)]

    with pytest.raises(ValidationError, match="1 to 50 people"):
        await livestorm.register_bulk(_session(workspace).id, people)

    assert fake.calls == []


async def test_a_job_that_does_not_end_in_time_is_an_error(
    fake: FakeLivestorm, workspace: Workspace
) -> None:
    fake.job_delay = 60
    async with make_client(fake, job_timeout=0.1, job_poll_interval=0.02) as client:
        with pytest.raises(BulkJobError, match="did not end within"):
            await client.register_bulk(_session(workspace).id, [Registrant("slow@example.com")])


# -- the push ---------------------------------------------------------------------------------


async def _contacts(container: CoreContainer, emails: list[str]) -> list[ContactToRegister]:
    result = await container.contact_service().bulk_upsert(
        {"email": email, "first_name": email.split("@")[0].title()} for email in emails
    )
    return [
        ContactToRegister(
            result.ids[email.lower()],
            email,
            first_name=email.split("@")[0].title(),
            answers={"company": "Acme"},
        )
        for email in emails
    ]


async def _rows(container: CoreContainer, session_id: str) -> dict[int | None, RegistrationRow]:
    async with container.session_factory()() as db:
        rows = await db.scalars(
            select(RegistrationRow).where(RegistrationRow.session_id == session_id)
        )
        return {row.contact_id: row for row in rows}


async def test_a_push_registers_in_bulk_batches_and_records_409s(
    container: CoreContainer, fake: FakeLivestorm, livestorm: LivestormClient, workspace: Workspace
) -> None:
    session = _session(workspace)
    taken = _registered_emails(session)[:5]  # registered in Livestorm, unknown to us
    new = [f"lead{i}@example.com" for i in range(110)]
    contacts = await _contacts(container, new + taken)
    pusher = RegistrationPusher(livestorm, container.session_factory())

    result = await pusher.push(session.id, contacts)

    ids = {c.email: c.contact_id for c in contacts}
    rows = await _rows(container, session.id)
    assert result.complete and result.failed == []
    assert sorted(result.registered) == sorted(ids[e] for e in new)
    assert sorted(result.already_registered) == sorted(ids[e] for e in taken)
    assert result.bulk_jobs == 3 and result.single_registrations == 0  # 50 + 50 + 15
    assert fake.call_count("POST", "/sessions/*/people/bulk") == 3
    assert fake.call_count("POST", "/sessions/*/people") == 0
    assert {e.lower() for e in new} <= {e.lower() for e in _registered_emails(session)}
    assert answers_of(workspace, session, "lead0@example.com") == {"company": "Acme"}
    assert set(rows) == set(ids.values())  # every contact's registration row, linked
    assert all(rows[ids[e]].email == e for e in new)
    assert len(result.changes) == len(contacts)
    assert all(change.newly_registered for change in result.changes)


def answers_of(workspace: Workspace, session: SessionRecord, email: str) -> dict[str, object]:
    person = workspace.find_person(email)
    assert person is not None
    return dict(workspace.registration(session.id, person.id).answers)


async def test_a_second_push_sends_nothing_for_stored_registrations(
    container: CoreContainer, fake: FakeLivestorm, livestorm: LivestormClient, workspace: Workspace
) -> None:
    session = _session(workspace)
    contacts = await _contacts(container, [f"lead{i}@example.com" for i in range(7)])
    pusher = RegistrationPusher(livestorm, container.session_factory())
    await pusher.push(session.id, contacts)
    fake.reset_calls()

    again = await pusher.push(session.id, contacts)

    assert sorted(again.known) == sorted(c.contact_id for c in contacts)
    assert again.registered == again.already_registered == []
    assert fake.calls == []  # the session is stored and nobody needed sending


async def test_when_the_bulk_job_fails_the_single_endpoint_takes_over(
    container: CoreContainer, fake: FakeLivestorm, livestorm: LivestormClient, workspace: Workspace
) -> None:
    session = _session(workspace)
    taken = _registered_emails(session)[:2]
    contacts = await _contacts(container, ["solo1@example.com", "solo2@example.com", *taken])
    fake.fail_next(1, 500, method="POST", path="/sessions/*/people/bulk")

    result = await RegistrationPusher(livestorm, container.session_factory()).push(
        session.id, contacts
    )

    ids = {c.email: c.contact_id for c in contacts}
    rows = await _rows(container, session.id)
    assert result.bulk_jobs == 0 and result.single_registrations == 4
    assert sorted(result.registered) == sorted([ids["solo1@example.com"], ids["solo2@example.com"]])
    assert sorted(result.already_registered) == sorted(ids[e] for e in taken)
    assert fake.call_count("POST", "/sessions/*/people") == 4
    # a 409 is looked up (one call each) so its row is linked to the contact
    for email in taken:
        person = workspace.find_person(email)
        assert person is not None and rows[ids[email]].person_id == person.id


async def test_per_contact_failures_come_back_with_livestorms_reason(
    container: CoreContainer, livestorm: LivestormClient, workspace: Workspace
) -> None:
    session = _session(workspace)
    good = await _contacts(container, ["fine@example.com"])
    bad = ContactToRegister(999_999, "not-an-email")
    missing = ContactToRegister(999_998, "  ")

    result = await RegistrationPusher(livestorm, container.session_factory()).push(
        session.id, [*good, bad, missing]
    )

    reasons = {failure.contact_id: failure.reason for failure in result.failed}
    assert result.registered == [good[0].contact_id]
    assert "is not a valid email address" in reasons[999_999]
    assert reasons[999_998] == "the contact has no email"


async def test_the_quota_reserve_stops_a_push_cleanly(
    container: CoreContainer, fake: FakeLivestorm, workspace: Workspace
) -> None:
    session = _session(workspace)
    contacts = await _contacts(container, [f"lead{i}@example.com" for i in range(60)])
    async with container.session_factory().begin() as db:
        await LivestormStore().ensure_session(db, session.id, session.event_id)
    # POST bulk, poll the job (at least once), read the tasks: then the reserve is reached.
    fake.job_delay = 0
    fake.reset_quota(505)
    async with make_client(fake, quota_reserve=500, job_poll_interval=0.05) as client:
        await client.ping()
        result = await RegistrationPusher(client, container.session_factory()).push(
            session.id, contacts
        )

    rows = await _rows(container, session.id)
    assert not result.complete and "kept in reserve" in (result.stopped or "")
    assert len(result.registered) == 50
    assert sorted(result.not_attempted) == sorted(c.contact_id for c in contacts[50:])
    assert {r for r in rows if r is not None} == set(result.registered)  # the batch is stored


async def test_a_push_to_an_unknown_session_says_so(
    container: CoreContainer, livestorm: LivestormClient
) -> None:
    contacts = await _contacts(container, ["a@example.com"])

    with pytest.raises(LivestormNotFoundError, match="Livestorm has no session nope"):
        await RegistrationPusher(livestorm, container.session_factory()).push("nope", contacts)


async def test_a_rejected_token_fails_the_push(
    container: CoreContainer, fake: FakeLivestorm, livestorm: LivestormClient, workspace: Workspace
) -> None:
    session = _session(workspace)
    contacts = await _contacts(container, ["a@example.com"])
    fake.revoke_token()

    with pytest.raises(LivestormAuthenticationError):
        await RegistrationPusher(livestorm, container.session_factory()).push(session.id, contacts)


async def test_the_session_is_fetched_once_and_flagged_for_a_pull(
    container: CoreContainer, fake: FakeLivestorm, livestorm: LivestormClient, workspace: Workspace
) -> None:
    session = _session(workspace)
    contacts = await _contacts(container, ["a@example.com"])

    await RegistrationPusher(livestorm, container.session_factory()).push(session.id, contacts)

    async with container.session_factory()() as db:
        row = await db.get(SessionRow, session.id)
    assert fake.call_count("GET", f"/sessions/{session.id}") == 1
    assert row is not None and row.event_id == session.event_id
    assert row.pull_requested_at is not None  # its event is a stub until the next pull


async def test_tasks_of_an_unknown_shape_send_every_member_to_the_single_endpoint(
    container: CoreContainer, fake: FakeLivestorm, livestorm: LivestormClient, workspace: Workspace
) -> None:
    """Tasks that prove nothing register nobody on their word: the single endpoint settles
    each member (201 for the new ones, 409 for those the job already registered)."""
    fake.task_shape = TaskShape.OPAQUE
    session = _session(workspace)
    taken = _registered_emails(session)[:2]
    new = [f"opaque{i}@example.com" for i in range(5)]
    contacts = await _contacts(container, new + taken)

    result = await RegistrationPusher(livestorm, container.session_factory()).push(
        session.id, contacts
    )

    ids = {c.email: c.contact_id for c in contacts}
    assert result.bulk_jobs == 1 and result.single_registrations == len(contacts)
    assert fake.call_count("POST", "/sessions/*/people") == len(contacts)
    # the job registered the new ones: the single endpoint answers 409 for everyone
    assert result.registered == [] and result.failed == []
    assert sorted(result.already_registered) == sorted(ids.values())
    rows = await _rows(container, session.id)
    assert set(rows) == set(ids.values())


async def test_tasks_in_the_documented_shape_settle_the_batch_without_single_calls(
    container: CoreContainer, fake: FakeLivestorm, livestorm: LivestormClient, workspace: Workspace
) -> None:
    """A created item carries the registrant; a failed one its error (a 409, a 422)."""
    fake.task_shape = TaskShape.DOCUMENTED
    session = _session(workspace)
    taken = _registered_emails(session)[:2]
    new = [f"documented{i}@example.com" for i in range(4)]
    contacts = await _contacts(container, [*new, *taken])
    contacts.append(ContactToRegister(contact_id=10_000, email="not-an-email"))

    result = await RegistrationPusher(livestorm, container.session_factory()).push(
        session.id, contacts
    )

    ids = {c.email: c.contact_id for c in contacts}
    assert result.bulk_jobs == 1 and result.single_registrations == 0
    assert fake.call_count("POST", "/sessions/*/people") == 0
    assert sorted(result.registered) == sorted(ids[e] for e in new)
    assert sorted(result.already_registered) == sorted(ids[e] for e in taken)
    assert [f.contact_id for f in result.failed] == [ids["not-an-email"]]
    assert "not a valid email" in result.failed[0].reason
    rows = await _rows(container, session.id)
    assert all(rows[ids[e]].person_id for e in new)
