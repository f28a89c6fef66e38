"""Filters and include=, over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from leadbridge_livestorm import Event, Page, Person, Session
from leadbridge_livestorm.testing import FakeLivestorm, Workspace


def _all(client: httpx.Client, path: str, params: dict[str, object] | None = None) -> list[dict]:
    items: list[dict] = []
    number = 0
    while True:
        query = {**(params or {}), "page[size]": 50, "page[number]": number}
        response = client.get(path, params=query)
        assert response.status_code == 200, response.text
        document = response.json()
        items += document["data"]
        if document["meta"]["next_page"] is None:
            return items
        number += 1


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat()


def test_event_title_filter_is_a_case_insensitive_substring(
    client: httpx.Client, small_workspace: Workspace
) -> None:
    title = next(iter(small_workspace.events.values())).title

    found = _all(client, "/events", {"filter[title]": title.upper()[:8]})

    assert title in [item["attributes"]["title"] for item in found]
    assert all(title.upper()[:8] in item["attributes"]["title"].upper() for item in found)


def test_event_scheduling_status_filter(client: httpx.Client, small_workspace: Workspace) -> None:
    statuses = {small_workspace.scheduling_status(e) for e in small_workspace.events.values()}

    for status in statuses:
        found = _all(client, "/events", {"filter[scheduling_status]": status})
        expected = [
            e.id
            for e in small_workspace.events.values()
            if small_workspace.scheduling_status(e) == status
        ]
        assert [item["id"] for item in found] == expected


@pytest.mark.parametrize("as_iso", [False, True])
def test_event_created_and_updated_windows_take_seconds_or_iso(
    client: httpx.Client, small_workspace: Workspace, as_iso: bool
) -> None:
    events = sorted(small_workspace.events.values(), key=lambda e: e.created_at)
    pivot = events[1].created_at
    since = _iso(pivot) if as_iso else pivot

    created = _all(client, "/events", {"filter[created_since]": since})
    until = _all(client, "/events", {"filter[created_until]": since})
    updated = _all(client, "/events", {"filter[updated_since]": since})

    assert {i["id"] for i in created} == {e.id for e in events if e.created_at >= pivot}
    assert {i["id"] for i in until} == {e.id for e in events if e.created_at <= pivot}
    assert {i["id"] for i in updated} == {e.id for e in events if e.updated_at >= pivot}


def test_a_time_that_is_neither_seconds_nor_iso_is_a_400(client: httpx.Client) -> None:
    response = client.get("/events", params={"filter[updated_since]": "last tuesday"})

    assert response.status_code == 400
    assert "filter[updated_since]" in response.json()["errors"][0]["detail"]


def test_include_sessions_joins_the_events_sessions(
    client: httpx.Client, small_workspace: Workspace
) -> None:
    page = Page.parse(client.get("/events", params={"include": "sessions"}).json(), Event)

    sessions = page.included_of(Session)
    assert {s.id for s in sessions} == {sid for e in page.items for sid in e.session_ids}
    assert all(s.event_id in {e.id for e in page.items} for s in sessions)


def test_an_unsupported_include_is_a_400(client: httpx.Client) -> None:
    response = client.get("/events", params={"include": "owner"})

    assert response.status_code == 400
    assert "include=owner" in response.json()["errors"][0]["detail"]


def test_event_sessions_filters(client: httpx.Client, small_workspace: Workspace) -> None:
    event = next(e for e in small_workspace.events.values() if len(e.session_ids) == 2)
    sessions = [small_workspace.sessions[sid] for sid in event.session_ids]
    first, second = sorted(sessions, key=lambda s: s.estimated_started_at)
    path = f"/events/{event.id}/sessions"

    by_date = _all(client, path, {"filter[date_from]": second.estimated_started_at})
    by_date_to = _all(client, path, {"filter[date_to]": _iso(first.estimated_started_at)})
    by_status = _all(client, path, {"filter[status]": first.status})
    by_update = _all(client, path, {"filter[updated_since]": max(s.updated_at for s in sessions)})

    assert [s["id"] for s in by_date] == [second.id]
    assert [s["id"] for s in by_date_to] == [first.id]
    assert {s["id"] for s in by_status} == {s.id for s in sessions if s.status == first.status}
    assert {s["id"] for s in by_update} == {
        s.id for s in sessions if s.updated_at == max(x.updated_at for x in sessions)
    }


def test_all_sessions_and_one_session(client: httpx.Client, small_workspace: Workspace) -> None:
    listed = _all(client, "/sessions")
    one = client.get(f"/sessions/{listed[0]['id']}", params={"include": "event"}).json()

    assert [s["id"] for s in listed] == list(small_workspace.sessions)
    assert one["data"]["attributes"]["event_id"] == one["included"][0]["id"]
    assert one["included"][0]["type"] == "events"


def test_session_people_filters(client: httpx.Client, small_workspace: Workspace) -> None:
    session = next(s for s in small_workspace.sessions.values() if s.status == "past")
    regs = list(session.registrations.values())
    path = f"/sessions/{session.id}/people"
    someone = next(r for r in regs if r.person.email and not r.person.is_team_member)

    attended = _all(client, path, {"filter[attended]": "true"})
    absent = _all(client, path, {"filter[attended]": "false"})
    team = _all(client, path, {"filter[role]": "team_member"})
    by_email = _all(client, path, {"filter[email]": someone.person.email.upper()})
    pivot = sorted(r.created_at for r in regs)[len(regs) // 2]
    created = _all(client, path, {"filter[created_since]": pivot})

    assert {p["id"] for p in attended} == {r.person.id for r in regs if r.attended}
    assert {p["id"] for p in absent} == {r.person.id for r in regs if not r.attended}
    assert attended and absent
    assert {p["id"] for p in team} == {r.person.id for r in regs if r.person.is_team_member}
    assert [p["id"] for p in by_email] == [someone.person.id]
    assert {p["id"] for p in created} == {r.person.id for r in regs if r.created_at >= pivot}


def test_session_people_carry_the_registration_and_include_event_and_session(
    client: httpx.Client, small_workspace: Workspace
) -> None:
    session = next(s for s in small_workspace.sessions.values() if s.status == "past")
    document = client.get(
        f"/sessions/{session.id}/people",
        params={"include": "event,session", "filter[role]": "participant"},
    ).json()

    page = Page.parse(document, Person)
    person = page.items[0]
    detail = person.registrant_detail
    assert detail is not None
    assert detail.session_id == session.id
    assert detail.value("email") == person.email
    assert set(detail.custom_answers) == {
        "company",
        "job_title",
        "phone",
        "department",
        "interests",
    }
    assert {item["type"] for item in page.included} == {"events", "sessions"}


def test_event_people_list_every_registration_of_the_event(
    client: httpx.Client, small_workspace: Workspace
) -> None:
    event = next(iter(small_workspace.events.values()))

    people = _all(client, f"/events/{event.id}/people")
    team = _all(client, f"/events/{event.id}/people", {"filter[role]": "team_member"})

    expected = small_workspace.event_registrations(event.id)
    assert len(people) == len(expected)
    assert {(p["id"], p["attributes"]["registrant_detail"]["session_id"]) for p in people} == {
        (r.person.id, r.session_id) for r in expected
    }
    assert team and all(p["attributes"]["role"] == "team_member" for p in team)


def test_people_and_one_person(client: httpx.Client, small_workspace: Workspace) -> None:
    person = next(p for p in small_workspace.people.values() if p.email)

    by_email = _all(client, "/people", {"filter[email]": person.email})
    one = client.get(f"/people/{person.id}").json()["data"]
    missing = client.get("/people/nope")

    assert [p["id"] for p in by_email] == [person.id]
    assert one["attributes"]["email"] == person.email
    assert one["attributes"]["registrant_detail"] is None
    assert missing.status_code == 404


def test_filter_values_are_checked(client: httpx.Client, fake: FakeLivestorm) -> None:
    session_id = next(iter(fake.workspace.sessions))

    response = client.get(f"/sessions/{session_id}/people", params={"filter[attended]": "maybe"})

    assert response.status_code == 400
    assert "filter[attended]" in response.json()["errors"][0]["detail"]
