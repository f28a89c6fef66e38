"""Registering people: one at a time (201/409/422), unregistering, bulk jobs."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from leadbridge_livestorm import Job, JobTask, Page, Person
from leadbridge_livestorm.testing import FakeLivestorm, SessionRecord


def _body(email: str | None, **answers: Any) -> dict[str, Any]:
    fields = [] if email is None else [{"id": "email", "value": email}]
    fields += [{"id": key, "value": value} for key, value in answers.items()]
    return {"data": {"type": "people", "attributes": {"fields": fields}}}


def _upcoming(fake: FakeLivestorm) -> SessionRecord:
    return next(s for s in fake.workspace.sessions.values() if s.status == "upcoming")


def test_register_answers_201_then_409(
    fresh_fake: FakeLivestorm, fresh_client: httpx.Client
) -> None:
    session = _upcoming(fresh_fake)
    body = _body(
        "new.person@example.com",
        first_name="New",
        company="Initech",
        department="sales",
        interests=["pricing", "webinars"],
    )
    body["data"]["attributes"].update({"utm_source": "newsletter", "referrer": "acme.com"})

    created = fresh_client.post(f"/sessions/{session.id}/people", json=body)
    again = fresh_client.post(
        f"/sessions/{session.id}/people", json=_body("NEW.person@example.com")
    )

    assert created.status_code == 201
    person = Person.from_document(created.json())
    assert person.email == "new.person@example.com"
    assert person.first_name == "New"
    detail = person.registrant_detail
    assert detail is not None
    assert detail.session_id == session.id
    assert detail.registration_type == "API"
    assert detail.utm_source == "newsletter"
    assert detail.custom_answers["interests"] == ["pricing", "webinars"]
    assert again.status_code == 409
    assert again.json()["errors"][0]["status"] == "conflict"
    listed = fresh_client.get(
        f"/sessions/{session.id}/people", params={"filter[email]": "new.person@example.com"}
    )
    assert [p["id"] for p in listed.json()["data"]] == [person.id]


def test_the_same_person_registers_on_another_session(
    fresh_fake: FakeLivestorm, fresh_client: httpx.Client
) -> None:
    first, second = list(fresh_fake.workspace.sessions)[:2]

    one = fresh_client.post(f"/sessions/{first}/people", json=_body("twice@example.com"))
    two = fresh_client.post(f"/sessions/{second}/people", json=_body("twice@example.com"))

    assert (one.status_code, two.status_code) == (201, 201)
    assert one.json()["data"]["id"] == two.json()["data"]["id"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (_body(None, first_name="Nomail"), "email is required"),
        (_body("not-an-email"), "not a valid email"),
        (_body("a@b.co", favourite_color="green"), "'favourite_color' is not in"),
        (_body("a@b.co", department="astronauts"), "'astronauts' is not one of"),
        (_body("a@b.co", interests="pricing"), "takes several answers"),
        (_body("a@b.co", department=["sales"]), "takes one answer"),
        ({"data": {"type": "people", "attributes": {"email": "a@b.co"}}}, "email is required"),
    ],
)
def test_invalid_registrations_get_422(
    fresh_fake: FakeLivestorm, fresh_client: httpx.Client, body: dict[str, Any], fragment: str
) -> None:
    session = _upcoming(fresh_fake)
    before = len(session.registrations)

    response = fresh_client.post(f"/sessions/{session.id}/people", json=body)

    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["status"] == "unprocessable_entity"
    assert fragment in error["detail"]
    assert len(session.registrations) == before


def test_a_malformed_body_is_a_400(fresh_fake: FakeLivestorm, fresh_client: httpx.Client) -> None:
    session = _upcoming(fresh_fake)

    not_json = fresh_client.post(f"/sessions/{session.id}/people", content=b"{nope")
    no_data = fresh_client.post(f"/sessions/{session.id}/people", json={"email": "a@b.co"})

    assert (not_json.status_code, no_data.status_code) == (400, 400)


def test_register_on_an_unknown_session_is_a_404(fresh_client: httpx.Client) -> None:
    response = fresh_client.post("/sessions/nope/people", json=_body("a@b.co"))

    assert response.status_code == 404


def test_unregister(fresh_fake: FakeLivestorm, fresh_client: httpx.Client) -> None:
    session = _upcoming(fresh_fake)
    fresh_client.post(f"/sessions/{session.id}/people", json=_body("leaving@example.com"))
    path = f"/sessions/{session.id}/people"

    gone = fresh_client.delete(path, params={"filter[email]": "leaving@example.com"})
    twice = fresh_client.delete(path, params={"filter[email]": "leaving@example.com"})
    no_filter = fresh_client.delete(path)

    assert gone.status_code == 204
    assert gone.content == b""
    assert twice.status_code == 404
    assert no_filter.status_code == 400


def _bulk(emails: list[str]) -> dict[str, Any]:
    tasks = [{"attributes": _body(email)["data"]["attributes"]} for email in emails]
    return {"data": {"type": "jobs", "attributes": {"tasks": tasks}}}


def _wait_for(client: httpx.Client, job_id: str) -> Job:
    deadline = time.monotonic() + 10
    while True:
        job = Job.from_document(client.get(f"/jobs/{job_id}").json())
        if job.is_finished or time.monotonic() > deadline:
            return job
        time.sleep(0.02)


def test_bulk_job_runs_to_completion_with_per_item_results(
    fresh_fake: FakeLivestorm, fresh_client: httpx.Client
) -> None:
    session = _upcoming(fresh_fake)
    already = next(r.person for r in session.registrations.values() if r.person.email)
    assert already.email is not None
    emails = [f"bulk{i}@example.com" for i in range(3)] + [already.email, "broken"]

    accepted = fresh_client.post(f"/sessions/{session.id}/people/bulk", json=_bulk(emails))

    assert accepted.status_code == 202
    job = Job.from_document(accepted.json())
    assert (job.status, job.total_items) == ("processing", 5)
    done = _wait_for(fresh_client, job.id)
    assert (done.status, done.total_processed_items) == ("failed", 5)  # some items failed
    assert (done.total_success, done.total_fail) == (3, 2)
    tasks = Page.parse(fresh_client.get(f"/jobs/{job.id}/tasks").json(), JobTask).items
    assert [t.index for t in tasks] == [0, 1, 2, 3, 4]
    assert [t.status for t in tasks] == ["succeeded"] * 3 + ["failed"] * 2
    assert all(t.person_id for t in tasks[:3])
    conflict, invalid = tasks[3], tasks[4]
    assert conflict.already_registered
    assert conflict.person_id == already.id
    assert conflict.errors[0].title == "Conflict"
    assert invalid.errors[0].status == "unprocessable_entity"
    assert not invalid.already_registered
    registered = {r.person.email for r in session.registrations.values()}
    assert set(emails[:3]) <= registered


def test_bulk_jobs_take_at_most_50_tasks(
    fresh_fake: FakeLivestorm, fresh_client: httpx.Client
) -> None:
    session = _upcoming(fresh_fake)
    path = f"/sessions/{session.id}/people/bulk"

    too_many = fresh_client.post(path, json=_bulk([f"p{i}@example.com" for i in range(51)]))
    empty = fresh_client.post(path, json=_bulk([]))
    fifty = fresh_client.post(path, json=_bulk([f"p{i}@example.com" for i in range(50)]))

    assert too_many.status_code == 422
    assert "at most 50" in too_many.json()["errors"][0]["detail"]
    assert empty.status_code == 422
    assert fifty.status_code == 202


def test_a_job_waits_for_its_delay_unless_finished_by_hand(
    fresh_fake: FakeLivestorm, fresh_client: httpx.Client
) -> None:
    fresh_fake.job_delay = 3600
    session = _upcoming(fresh_fake)

    accepted = fresh_client.post(
        f"/sessions/{session.id}/people/bulk", json=_bulk(["late@example.com"])
    )
    job_id = accepted.json()["data"]["id"]
    pending = Job.from_document(fresh_client.get(f"/jobs/{job_id}").json())
    fresh_fake.finish_jobs()
    done = Job.from_document(fresh_client.get(f"/jobs/{job_id}").json())

    assert pending.status == "processing"
    assert (done.status, done.total_success) == ("ended", 1)
    assert fresh_client.get("/jobs/nope").status_code == 404
