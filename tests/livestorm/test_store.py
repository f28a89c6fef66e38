"""The pull-side building blocks: the contact mapping and LivestormStore's set-based upserts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from leadbridge import CoreContainer
from leadbridge_livestorm import (
    EventRow,
    LivestormClient,
    LivestormStore,
    Person,
    PersonSkippedError,
    RegistrationLink,
    RegistrationRow,
    SessionRow,
    person_to_contact_fields,
)
from leadbridge_livestorm.testing import FakeLivestorm, Workspace

PERSON: dict[str, Any] = {
    "id": "p-1",
    "type": "people",
    "attributes": {
        "role": "participant",
        "first_name": "Jane",
        "last_name": "Adams",
        "email": " jane@example.com ",
        "registrant_detail": {
            "event_id": "e-1",
            "session_id": "s-1",
            "fields": [
                {"id": "email", "value": "jane@example.com"},
                {"id": "company", "value": "Acme", "custom": True},
                {"id": "job_title", "value": "", "custom": True},
                {"id": "phone", "value": "+33 6 12 34 56 78", "custom": True},
                {"id": "department", "value": "sales", "custom": True},
            ],
        },
    },
}


def _person(**changes: Any) -> Person:
    document = {**PERSON, "attributes": {**PERSON["attributes"], **changes}}
    return Person.model_validate(document)


# -- the contact mapping ----------------------------------------------------------------------


def test_the_default_mapping_takes_email_names_and_answered_form_fields() -> None:
    fields = person_to_contact_fields(_person())

    assert fields == {
        "email": "jane@example.com",
        "first_name": "Jane",
        "last_name": "Adams",
        "company": "Acme",
        "phone": "+33 6 12 34 56 78",
    }  # job_title was left empty: not copied, so it never wipes a stored value


def test_form_fields_can_be_renamed_or_listed() -> None:
    renamed = person_to_contact_fields(_person(), {"department": "team", "company": "employer"})
    listed = person_to_contact_fields(_person(), ["department"])

    assert renamed["team"] == "sales" and renamed["employer"] == "Acme"
    assert "company" not in renamed
    assert listed["department"] == "sales" and "company" not in listed


def test_team_members_are_skipped_unless_asked_for() -> None:
    member = _person(role="team_member")

    with pytest.raises(PersonSkippedError) as caught:
        person_to_contact_fields(member)

    assert caught.value.reason == "team_member" and caught.value.person_id == "p-1"
    assert person_to_contact_fields(member, include_team_members=True)["email"]


@pytest.mark.parametrize("email", [None, "", "   "])
def test_a_person_without_email_is_refused_with_a_reason(email: str | None) -> None:
    with pytest.raises(PersonSkippedError, match="has no email") as caught:
        person_to_contact_fields(_person(email=email))

    assert caught.value.reason == "no_email"


# -- the store --------------------------------------------------------------------------------


async def _pull(
    client: LivestormClient, workspace: Workspace
) -> tuple[list[Any], list[Any], dict[str, list[Person]]]:
    events = await client.events().all()
    sessions = await client.sessions().all()
    people = {sid: await client.session_people(sid).all() for sid in workspace.sessions}
    return events, sessions, people


async def _contacts(container: CoreContainer, people: dict[str, list[Person]]) -> dict[str, int]:
    rows = {
        p.email.lower(): {"email": p.email}
        for persons in people.values()
        for p in persons
        if p.email and not p.is_team_member
    }
    result = await container.contact_service().bulk_upsert(rows.values())
    return {
        p.id: result.ids[p.email.lower()]
        for persons in people.values()
        for p in persons
        if p.email and p.email.lower() in result.ids
    }


async def _rows(container: CoreContainer) -> dict[tuple[str, str], RegistrationRow]:
    async with container.session_factory()() as db:
        rows = (await db.scalars(select(RegistrationRow))).all()
    return {(r.session_id, r.person_id): r for r in rows}


async def test_a_first_upsert_stores_events_sessions_and_every_registration(
    container: CoreContainer, livestorm: LivestormClient, workspace: Workspace
) -> None:
    store = LivestormStore()
    events, sessions, people = await _pull(livestorm, workspace)
    contact_ids = await _contacts(container, people)

    async with container.session_factory().begin() as db:
        stored_events = await store.upsert_events(db, events)
        stored_sessions = await store.upsert_sessions(db, sessions)
        results = [
            await store.upsert_registrations(db, persons, contact_ids=contact_ids)
            for persons in people.values()
        ]

    rows = await _rows(container)
    expected = {(sid, pid) for sid, s in workspace.sessions.items() for pid in s.registrations}
    assert len(stored_events.inserted) == len(workspace.events)
    assert len(stored_sessions.inserted) == len(workspace.sessions)
    assert sum(r.inserted for r in results) == len(expected) == len(rows)
    assert set(rows) == expected
    assert all(change.newly_registered for r in results for change in r.changes)
    for (session_id, person_id), row in rows.items():
        source = workspace.registration(session_id, person_id)
        assert row.event_id == source.event_id
        assert row.attended == source.attended
        assert row.attendance_rate == source.attendance_rate
        assert row.attendance_duration == source.attendance_duration
        assert row.has_viewed_replay == (source.replay_watched_at != 0)
        assert row.replay_watched_at == (
            datetime.fromtimestamp(source.replay_watched_at, UTC)
            if source.replay_watched_at
            else None
        )
        assert (row.messages_count, row.questions_count) == (
            source.messages_count,
            source.questions_count,
        )
        assert (row.votes_count, row.up_votes_count) == (source.votes_count, source.up_votes_count)
        assert row.registered_at == datetime.fromtimestamp(source.created_at, UTC)
        assert (row.utm_source, row.utm_campaign, row.referrer) == (
            source.utm_source,
            source.utm_campaign,
            source.referrer,
        )
        assert row.contact_id == contact_ids.get(person_id)
        if not source.person.is_team_member:
            answered = {k: v for k, v in source.answers.items() if v is not None}
            assert row.answers == answered
    upcoming = next(s for s in workspace.sessions.values() if s.status == "upcoming")
    async with container.session_factory()() as db:
        stub = await db.get(SessionRow, upcoming.id)
    assert stub is not None and stub.started_at is None and stub.ended_at is None  # 0 = unset


async def test_a_second_upsert_of_the_same_data_writes_nothing(
    container: CoreContainer, livestorm: LivestormClient, workspace: Workspace
) -> None:
    store = LivestormStore()
    events, sessions, people = await _pull(livestorm, workspace)
    async with container.session_factory().begin() as db:
        await store.upsert_events(db, events)
        await store.upsert_sessions(db, sessions)
        for persons in people.values():
            await store.upsert_registrations(db, persons)
    before = {key: row.synced_at for key, row in (await _rows(container)).items()}

    later = LivestormStore(clock=lambda: datetime.now(UTC) + timedelta(days=1))
    async with container.session_factory().begin() as db:
        again_events = await later.upsert_events(db, events)
        again_sessions = await later.upsert_sessions(db, sessions)
        again = [await later.upsert_registrations(db, persons) for persons in people.values()]

    after = {key: row.synced_at for key, row in (await _rows(container)).items()}
    assert again_events.written == again_sessions.written == 0
    assert sum(r.written for r in again) == 0
    assert sum(r.unchanged for r in again) == len(before)
    assert after == before  # not one row rewritten


async def test_changes_report_only_the_new_facts(
    container: CoreContainer, fake: FakeLivestorm, livestorm: LivestormClient, workspace: Workspace
) -> None:
    store = LivestormStore()
    _, sessions, _ = await _pull(livestorm, workspace)
    session = next(s for s in workspace.sessions.values() if s.status == "past")
    absent = next(r for r in session.registrations.values() if not r.attended)
    present = next(
        r for r in session.registrations.values() if r.attended and not r.person.is_team_member
    )
    async with container.session_factory().begin() as db:
        await store.upsert_events(db, await livestorm.events().all())
        await store.upsert_sessions(db, sessions)
        await store.upsert_registrations(db, await livestorm.session_people(session.id).all())

    since = fake.advance(60)
    workspace.set_attendance(session.id, absent.person.id, attendance_rate=80, questions_count=2)
    workspace.update_registration(
        session.id, present.person.id, questions_count=present.questions_count + 3
    )
    changed = await livestorm.session_people(session.id, updated_since=since).all()
    async with container.session_factory().begin() as db:
        result = await store.upsert_registrations(db, changed)

    by_person = {c.person_id: c for c in result.changes}
    assert set(by_person) == {absent.person.id, present.person.id}
    newcomer, regular = by_person[absent.person.id], by_person[present.person.id]
    assert newcomer.newly_attended and not newcomer.newly_registered
    assert (newcomer.new_questions, newcomer.attendance_rate) == (2, 80)
    assert {"attended", "attendance_rate", "questions_count"} <= newcomer.changed
    assert not regular.newly_attended and regular.new_questions == 3
    assert regular.changed == {"questions_count", "updated_at"}


async def test_an_older_snapshot_never_undoes_a_newer_row(
    container: CoreContainer, fake: FakeLivestorm, livestorm: LivestormClient, workspace: Workspace
) -> None:
    store = LivestormStore()
    session = next(s for s in workspace.sessions.values() if s.status == "past")
    registration = next(r for r in session.registrations.values() if not r.attended)
    async with container.session_factory().begin() as db:
        await store.upsert_events(db, await livestorm.events().all())
        await store.upsert_sessions(db, await livestorm.sessions().all())
    old = await livestorm.session_people(session.id, email=registration.person.email).all()
    fake.advance(60)
    workspace.set_attendance(session.id, registration.person.id, attendance_rate=50)
    new = await livestorm.session_people(session.id, email=registration.person.email).all()

    async with container.session_factory().begin() as db:
        first = await store.upsert_registrations(db, new)
        late = await store.upsert_registrations(db, old)

    row = (await _rows(container))[(session.id, registration.person.id)]
    assert first.inserted == 1 and late.stale == 1 and late.written == 0
    assert row.attended and row.attendance_rate == 50


async def test_a_link_is_kept_and_a_push_row_is_filled_by_the_pull(
    container: CoreContainer, livestorm: LivestormClient, workspace: Workspace
) -> None:
    store = LivestormStore()
    session = next(s for s in workspace.sessions.values() if s.status == "past")
    registration = next(r for r in session.registrations.values() if r.attended and r.person.email)
    contact = await container.contact_service().create(registration.person.email or "")
    async with container.session_factory().begin() as db:
        await store.upsert_events(db, await livestorm.events().all())
        await store.upsert_sessions(db, await livestorm.sessions().all())
        linked = await store.link_registrations(
            db,
            [
                RegistrationLink(
                    session.id, session.event_id, registration.person.id, contact.id, "x@y.z"
                )
            ],
        )
        relinked = await store.link_registrations(
            db, [RegistrationLink(session.id, session.event_id, registration.person.id, contact.id)]
        )
    people = await livestorm.session_people(session.id, email=registration.person.email).all()
    async with container.session_factory().begin() as db:
        pulled = await store.upsert_registrations(db, people)  # no contact ids given

    row = (await _rows(container))[(session.id, registration.person.id)]
    assert [c.newly_registered for c in linked.changes] == [True]
    assert relinked.written == 0 and relinked.unchanged == 1
    assert [c.newly_registered for c in pulled.changes] == [False]
    assert pulled.changes[0].newly_attended
    assert row.contact_id == contact.id  # the pull without ids kept the link
    assert row.attended and row.email == registration.person.email


async def test_people_without_a_registration_are_skipped(container: CoreContainer) -> None:
    bare = Person.model_validate(
        {"id": "lonely", "type": "people", "attributes": {"email": "l@example.com"}}
    )
    async with container.session_factory().begin() as db:
        result = await LivestormStore().upsert_registrations(db, [bare])

    assert result.written == 0
    assert [(s.reason, s.person_id) for s in result.skipped] == [("no_registration", "lonely")]


async def test_session_stubs_and_pull_requests(container: CoreContainer) -> None:
    store = LivestormStore()
    factory = container.session_factory()
    async with factory.begin() as db:
        created = await store.ensure_session(db, "s-new", "e-new")
        again = await store.ensure_session(db, "s-new", "e-new")
        unknown = await store.request_pull(db, "s-unknown")
    async with factory() as db:
        event = await db.get(EventRow, "e-new")
        requested = await store.pull_requests(db)
    cutoff = datetime.now(UTC)
    async with factory.begin() as db:
        await store.clear_pull_requests(db, requested, requested_before=cutoff)
    async with factory() as db:
        cleared = await store.pull_requests(db)
    async with factory.begin() as db:
        await store.request_pull(db, "s-new")
        await store.clear_pull_requests(
            db, ["s-new"], requested_before=cutoff - timedelta(seconds=1)
        )
        still = await store.pull_requests(db)
        count = await db.scalar(select(func.count()).select_from(SessionRow))

    assert (created, again, unknown) == (True, False, False)
    assert event is not None and event.title == ""
    assert requested == ["s-new"] and cleared == []
    assert still == ["s-new"]  # requested after the pull began: kept for the next one
    assert count == 1
