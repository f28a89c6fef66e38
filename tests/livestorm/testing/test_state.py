"""Test helpers that change the workspace, as seen through updated_since filters."""

from __future__ import annotations

import httpx
import pytest

from leadbridge_livestorm import Page, Person
from leadbridge_livestorm.testing import FakeLivestorm, RegistrationConflictError


def _ids(client: httpx.Client, path: str, since: int) -> list[str]:
    response = client.get(path, params={"filter[updated_since]": since, "page[size]": 50})
    assert response.status_code == 200
    return [item["id"] for item in response.json()["data"]]


def test_changed_attendance_is_the_only_change_seen_after_the_clock_moves(
    fresh_fake: FakeLivestorm, fresh_client: httpx.Client
) -> None:
    ws = fresh_fake.workspace
    session = next(s for s in ws.sessions.values() if s.status == "past")
    person_id = next(
        pid for pid, reg in session.registrations.items() if not reg.person.is_team_member
    )
    since = fresh_fake.advance(3600)
    assert _ids(fresh_client, "/events", since) == []

    ws.set_attendance(session.id, person_id, attendance_rate=40, questions_count=2)

    assert _ids(fresh_client, "/events", since) == [session.event_id]
    assert _ids(fresh_client, f"/events/{session.event_id}/sessions", since) == [session.id]
    assert _ids(fresh_client, "/sessions", since) == [session.id]
    document = fresh_client.get(
        f"/sessions/{session.id}/people", params={"filter[updated_since]": since}
    ).json()
    (person,) = Page.parse(document, Person).items
    assert person.id == person_id
    assert person.registrant_detail is not None
    assert person.registrant_detail.attended
    assert person.registrant_detail.attendance_rate == 40
    assert person.registrant_detail.attendance_duration == (session.duration or 0) * 40 // 100
    assert person.questions_count == 2


def test_a_renamed_person_shows_in_people_and_their_registrations(
    fresh_fake: FakeLivestorm, fresh_client: httpx.Client
) -> None:
    ws = fresh_fake.workspace
    registration = next(r for r in ws.iter_registrations() if not r.person.is_team_member)
    fresh_fake.clock = fresh_fake.clock + 60
    since = fresh_fake.clock

    ws.update_person(registration.person.id, first_name="Renamed")

    assert _ids(fresh_client, "/people", since) == [registration.person.id]
    people = _ids(fresh_client, f"/sessions/{registration.session_id}/people", since)
    assert people == [registration.person.id]


def test_added_sessions_people_and_replays(
    fresh_fake: FakeLivestorm, fresh_client: httpx.Client
) -> None:
    ws = fresh_fake.workspace
    event = next(iter(ws.events.values()))
    since = fresh_fake.advance(10)

    session = ws.add_session(event.id, name="Encore")
    person = ws.add_person("added@example.com", first_name="Added")
    ws.register(session.id, person, answers={"company": "Hooli"})
    ws.end_session(session.id, duration=1800)
    ws.set_attendance(session.id, person.id, attendance_rate=50)
    ws.mark_replay_viewed(session.id, person.id)

    listed = fresh_client.get(f"/sessions/{session.id}").json()["data"]["attributes"]
    assert listed["status"] == "past"
    assert (listed["registrants_count"], listed["attendees_count"]) == (1, 1)
    assert listed["duration"] == 1800
    assert listed["ended_at"] - listed["started_at"] == 1800
    (found,) = Page.parse(fresh_client.get(f"/sessions/{session.id}/people").json(), Person).items
    assert found.registrant_detail is not None
    assert found.registrant_detail.has_viewed_replay
    assert found.registrant_detail.attendance_duration == 900
    assert found.replay_view_detail is not None
    assert found.registrant_detail.value("company") == "Hooli"
    assert session.id in _ids(fresh_client, f"/events/{event.id}/sessions", since)
    with pytest.raises(RegistrationConflictError):
        ws.register(session.id, "ADDED@example.com")


def test_absence_clears_rate_and_duration(fresh_fake: FakeLivestorm) -> None:
    ws = fresh_fake.workspace
    registration = next(r for r in ws.iter_registrations() if r.attended)

    ws.set_attendance(registration.session_id, registration.person.id, attended=False)

    assert (registration.attended, registration.attendance_rate) == (False, None)
    assert registration.attendance_duration is None


def test_helpers_refuse_unknown_attributes(fresh_fake: FakeLivestorm) -> None:
    ws = fresh_fake.workspace
    registration = next(iter(ws.iter_registrations()))

    with pytest.raises(AttributeError):
        ws.update_registration(registration.session_id, registration.person.id, colour="red")
    with pytest.raises(AttributeError):
        ws.update_person(registration.person.id, id="other")
    with pytest.raises(ValueError, match="status"):
        ws.add_session(registration.event_id, status="sleeping")
