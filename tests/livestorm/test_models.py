"""The typed JSON:API models: the time rule, flattening, pages, errors, the signature."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from leadbridge_livestorm import (
    ApiError,
    BulkRegistration,
    Event,
    Job,
    JobTask,
    Organization,
    Page,
    Person,
    PersonRecord,
    QuotaState,
    Registrant,
    Session,
    TaskOutcome,
    Webhook,
    decode_people_page,
    parse_timestamp,
    person_to_contact_fields,
    registration_values,
    sign_webhook,
    signature_header_value,
    to_timestamp,
)

# The person of livestorm-api.md, as /sessions/{id}/people returns it.
PERSON: dict[str, Any] = {
    "id": "fd0fc320-0000-4000-8000-000000000001",
    "type": "people",
    "attributes": {
        "role": "participant",
        "created_at": 1720628127,
        "updated_at": 1720628127,
        "timezone": None,
        "first_name": "Jane",
        "last_name": "Adams",
        "email": "jane@example.com",
        "avatar_link": None,
        "registrant_detail": {
            "event_id": "fe9e2c48-0000-4000-8000-000000000002",
            "session_id": "0abbcb51-0000-4000-8000-000000000003",
            "created_at": 1720628127,
            "updated_at": 1720628127,
            "fields": [
                {"id": "email", "type": "text", "value": "jane@example.com", "required": True},
                {
                    "id": "company",
                    "type": "text",
                    "value": "Acme",
                    "required": False,
                    "custom": True,
                },
            ],
            "referrer": None,
            "utm_source": None,
            "utm_medium": None,
            "utm_term": None,
            "utm_content": None,
            "utm_campaign": None,
            "browser_name": "Chrome",
            "os_name": "Linux",
            "ip_city": None,
            "ip_country_code": None,
            "connection_link": "https://app.livestorm.co/p/x/live",
            "attended": True,
            "attendance_rate": 85,
            "attendance_duration": 2550,
            "has_viewed_replay": False,
            "registration_type": "API",
            "is_highlighted": False,
            "is_guest_speaker": False,
            "session_role": None,
            "some_future_attribute": "ignored",
        },
        "messages_count": 2,
        "questions_count": 1,
        "votes_count": 0,
        "up_votes_count": 0,
        "replay_view_detail": None,
    },
}


def test_zero_means_not_set_and_seconds_become_aware_utc() -> None:
    assert parse_timestamp(0) is None
    assert parse_timestamp(None) is None
    assert parse_timestamp(1720628127) == datetime(2024, 7, 10, 16, 15, 27, tzinfo=UTC)
    assert to_timestamp(None) == 0
    assert to_timestamp(parse_timestamp(1720628127)) == 1720628127
    with pytest.raises(ValueError):
        parse_timestamp(True)


def test_a_person_parses_from_the_wire() -> None:
    person = Person.model_validate(PERSON)

    assert person.id == PERSON["id"]
    assert person.email == "jane@example.com"
    assert person.created_at == datetime(2024, 7, 10, 16, 15, 27, tzinfo=UTC)
    assert not person.is_team_member
    detail = person.registrant_detail
    assert detail is not None
    assert detail.attended
    assert (detail.attendance_rate, detail.attendance_duration) == (85, 2550)
    assert detail.value("company") == "Acme"
    assert detail.value("nothing") is None
    assert detail.custom_answers == {"company": "Acme"}
    assert detail.answers == {"email": "jane@example.com", "company": "Acme"}
    assert person.messages_count == 2


def test_unset_times_are_none() -> None:
    session = Session.model_validate(
        {
            "id": "s1",
            "type": "sessions",
            "attributes": {"started_at": 0, "ended_at": 0, "canceled_at": 0, "duration": None},
        }
    )

    assert (session.started_at, session.ended_at, session.canceled_at) == (None, None, None)
    assert session.duration is None


def test_an_event_keeps_its_form_owner_and_sessions() -> None:
    event = Event.from_document(
        {
            "data": {
                "id": "e1",
                "type": "events",
                "attributes": {
                    "title": "Demo",
                    "published_at": 0,
                    "owner": {"id": "u1", "type": "people", "attributes": {"first_name": "Ann"}},
                    "fields": [
                        {"id": "email", "type": "text", "order": 0, "required": True},
                        {
                            "id": "department",
                            "type": "select",
                            "order": 1,
                            "custom": True,
                            "options": ["sales", {"value": "hr", "label": "HR"}],
                        },
                    ],
                },
                "relationships": {
                    "sessions": {
                        "data": [{"type": "sessions", "id": "s1"}, {"type": "sessions", "id": "s2"}]
                    }
                },
            }
        }
    )

    assert event.published_at is None
    assert event.owner is not None
    assert event.owner.first_name == "Ann"
    assert event.session_ids == ("s1", "s2")
    assert [f.id for f in event.custom_fields] == ["department"]
    assert event.custom_fields[0].options == ("sales", "hr")


def test_a_resource_of_another_type_is_refused() -> None:
    with pytest.raises(ValidationError, match="expected a 'events' resource"):
        Event.model_validate({"id": "x", "type": "sessions", "attributes": {}})


def test_a_page_parses_items_meta_and_included() -> None:
    document = {
        "data": [PERSON],
        "meta": {
            "current_page": 0,
            "previous_page": None,
            "next_page": None,
            "record_count": 1,
            "page_count": 1,
            "items_per_page": 50,
        },
        "included": [{"id": "o1", "type": "organizations", "attributes": {"name": "Acme"}}],
    }

    page = Page.parse(document, Person)

    assert [p.email for p in page.items] == ["jane@example.com"]
    assert page.is_last
    assert page.meta.items_per_page == 50
    assert [o.name for o in page.included_of(Organization)] == ["Acme"]


def test_jobs_and_webhooks() -> None:
    job = Job.model_validate(
        {"id": "j", "type": "jobs", "attributes": {"status": "ended", "total_items": 2}}
    )
    hook = Webhook.model_validate(
        {
            "id": "w",
            "type": "webhooks",
            "attributes": {"event": "session.ended", "url": "https://u"},
        }
    )
    older = Webhook.model_validate(
        {"id": "o", "type": "webhooks", "attributes": {"event": "session.ended", "target_url": "u"}}
    )

    assert job.is_finished
    assert (hook.event, hook.url) == ("session.ended", "https://u")
    assert older.url == "u"


def test_error_bodies_parse() -> None:
    body = {
        "errors": [{"title": "Unauthorized", "detail": "d", "code": "", "status": "unauthorized"}]
    }

    assert ApiError.parse_all(body) == (
        ApiError(title="Unauthorized", detail="d", code="", status="unauthorized"),
    )
    assert ApiError.parse_all("<html>") == ()


def test_the_signature_is_sha256_of_timestamp_secret_and_body() -> None:
    body = b'{"data":{}}'

    signature = sign_webhook(1720628127, "s3cret", body)

    assert signature == hashlib.sha256(b"1720628127" + b"s3cret" + body).hexdigest()
    assert signature_header_value(1720628127, "s3cret", body) == f"1720628127,{signature}"
    assert sign_webhook(1720628128, "s3cret", body) != signature


# -- shapes from Livestorm's published examples and clients, written from the facts -------


def test_form_options_as_an_object_with_items_and_multiple_answers() -> None:
    """Published examples give ``options`` as ``{"items": [{"value"}], "multiple_answers"}``."""
    event = Event.model_validate(
        {
            "id": "e2",
            "type": "events",
            "attributes": {
                "title": "Forms",
                "fields": [
                    {"id": "email", "type": "text", "order": 0, "required": True},
                    {
                        "id": "topics",
                        "type": "multiple",
                        "order": 1,
                        "required": False,
                        "custom": True,
                        "options": {
                            "items": [{"value": "pricing"}, {"value": "roadmap"}],
                            "multiple_answers": True,
                        },
                    },
                    {
                        "id": "size",
                        "type": "dropdown",
                        "options": {"items": [{"value": "1-10"}], "multiple_answers": False},
                    },
                    {"id": "odd", "type": "checkbox", "options": {"unexpected": 1}},
                    {"type": "text"},  # no id: dropped, the event kept
                ],
                "a_new_attribute": {"nested": [1, 2]},
            },
        }
    )
    topics, size, odd = event.fields[1:]
    assert (topics.type, topics.options, topics.multiple_answers) == (
        "multiple",
        ("pricing", "roadmap"),
        True,
    )
    assert (size.options, size.multiple_answers) == (("1-10",), False)
    assert odd.options is None
    assert [f.id for f in event.fields] == ["email", "topics", "size", "odd"]


def test_fractional_and_textual_attendance_numbers_parse() -> None:
    detail = {**PERSON["attributes"]["registrant_detail"]}
    detail.update(attendance_rate=87.5, attendance_duration="2550.25")
    person = Person.model_validate(
        {
            **PERSON,
            "attributes": {**PERSON["attributes"], "registrant_detail": detail,
                           "messages_count": 2.0, "questions_count": "1"},
        }
    )  # fmt: skip
    assert person.registrant_detail is not None
    assert person.registrant_detail.attendance_rate == 87.5
    assert person.registrant_detail.attendance_duration == 2550.25
    assert (person.messages_count, person.questions_count) == (2, 1)


def test_one_unreadable_record_is_skipped_not_the_page() -> None:
    document = {
        "data": [
            PERSON,
            {"id": "broken", "type": "people", "attributes": {"created_at": "yesterday"}},
            {"type": "people", "attributes": {}},
        ],
        "meta": {"current_page": 0, "next_page": None, "record_count": 3},
    }
    page = Page.parse(document, Person)
    assert [p.id for p in page.items] == [PERSON["id"]]
    assert [s.id for s in page.skipped] == ["broken", None]
    assert "created_at" in page.skipped[0].reason


@pytest.mark.parametrize("spelling", ["Monthly", "Montly"])
def test_quota_headers_in_both_spellings(spelling: str) -> None:
    quota = QuotaState()
    quota.update(
        {
            f"RateLimit-{spelling}-Limit": "10000",
            f"RateLimit-{spelling}-Remaining": "9500",
            "RateLimit-Interval-Limit": "5",
        }
    )
    assert (quota.monthly_limit, quota.monthly_remaining, quota.interval_limit) == (
        10000,
        9500,
        5,
    )


def _bulk(tasks: list[dict[str, Any]], *emails: str) -> BulkRegistration:
    job = Job.model_validate(
        {"id": "j1", "type": "jobs", "attributes": {"status": "ended", "total_items": 2}}
    )
    page = Page.parse({"data": tasks, "meta": {}}, JobTask)
    return BulkRegistration(
        job=job, registrants=tuple(Registrant(email=e) for e in emails), tasks=page.items
    )


def test_bulk_tasks_from_the_documented_facts() -> None:
    """A created item carries the registrant's details; a failed one its error."""
    bulk = _bulk(
        [
            {"id": "p1", "type": "people",
             "attributes": {"email": "a@x.co", "registrant_detail": {"session_id": "s"}}},
            {"id": "t2", "type": "tasks",
             "attributes": {"fields": [{"id": "email", "value": "B@x.co"}],
                            "errors": [{"status": 409, "detail": "already registered"}]}},
            {"id": "t3", "type": "tasks",
             "attributes": {"email": "c@x.co", "error": "email is invalid"}},
        ],
        "a@x.co", "b@x.co", "c@x.co",
    )  # fmt: skip
    outcomes = [(r.email, o, t.person_id if t else None) for r, o, t in bulk.outcomes()]
    assert outcomes == [
        ("a@x.co", TaskOutcome.REGISTERED, "p1"),
        ("b@x.co", TaskOutcome.ALREADY_REGISTERED, None),
        ("c@x.co", TaskOutcome.FAILED, None),
    ]
    assert bulk.results()[2][1] is not None
    assert bulk.results()[2][1].reason == "email is invalid"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "tasks",
    [
        [],  # no tasks at all
        [{"id": "t1", "type": "tasks", "attributes": {"email": "a@x.co"}}],  # no status
        [{"id": "t1", "type": "tasks", "attributes": {"email": "a@x.co", "status": "queued"}}],
        [{"id": "t1", "type": "something", "attributes": {"index": 0}}],  # position only
        [{"id": "t1", "attributes": "not an object"}, "not a resource"],
        [  # two tasks claim one person with different outcomes
            {"id": "t1", "type": "tasks", "attributes": {"email": "a@x.co", "status": "ok"}},
            {"id": "t2", "type": "tasks", "attributes": {"email": "a@x.co", "error": "no"}},
        ],
    ],
)
def test_bulk_tasks_of_unknown_shape_prove_nothing(tasks: list[Any]) -> None:
    bulk = _bulk(tasks, "a@x.co")
    ((_person, outcome, _task),) = bulk.outcomes()
    assert outcome is TaskOutcome.UNKNOWN


# -- people pages decoded straight from the bytes ---------------------------------------------


def _people_page(*people: dict[str, Any], **extra: Any) -> bytes:
    meta = {"current_page": 0, "next_page": None, "record_count": len(people), "page_count": 1}
    return json.dumps({"data": list(people), "meta": meta, **extra}).encode()


def test_a_people_page_with_unknown_attributes_decodes_into_records() -> None:
    person = {
        **PERSON,
        "some_top_level_novelty": {"nested": [1, 2]},
        "attributes": {
            **PERSON["attributes"],
            "brand_new": 1,
            "replay_view_detail": {"watched_at": 1720628200, "device": "tv"},
        },
        "relationships": {"session": {"data": {"type": "sessions", "id": "s1"}}, "odd": 5},
        "links": {"self": "https://api.livestorm.co/v1/people/x"},
    }
    page = decode_people_page(_people_page(person, jsonapi={"version": "1.0"}))

    assert page is not None
    assert page.skipped == () and page.meta.record_count == 1
    (record,) = page.items
    assert isinstance(record, PersonRecord)
    model = Person.model_validate(person)
    # The record reads as the model does, and maps to the same contact and row.
    assert registration_values(record) == registration_values(model)
    assert person_to_contact_fields(record) == person_to_contact_fields(model)
    assert (record.created_at, record.updated_at) == (model.created_at, model.updated_at)
    assert record.replay_view_detail is not None
    assert record.replay_view_detail.watched_at == datetime(2024, 7, 10, 16, 16, 40, tzinfo=UTC)
    detail = record.registrant_detail
    assert detail is not None and model.registrant_detail is not None
    assert detail.answers == model.registrant_detail.answers
    assert detail.custom_answers == {"company": "Acme"}
    assert (detail.attendance_rate, detail.attendance_duration) == (85, 2550)


@pytest.mark.parametrize(
    ("person_at", "registration_at", "expected"),
    [(1720628127, 1720628500, 1720628500), (1720629000, 1720628500, 1720629000), (0, 0, 0)],
)
def test_a_record_tells_when_it_changed_in_seconds_as_the_model_does(
    person_at: int, registration_at: int, expected: int
) -> None:
    detail = {**PERSON["attributes"]["registrant_detail"], "updated_at": registration_at}
    with_registration = {
        **PERSON["attributes"],
        "updated_at": person_at,
        "registrant_detail": detail,
    }
    without = {**with_registration, "registrant_detail": None}
    for attributes, seconds in ((with_registration, expected), (without, person_at)):
        person = {**PERSON, "attributes": attributes}
        page = decode_people_page(_people_page(person))
        assert page is not None
        (record,) = page.items
        assert isinstance(record, PersonRecord)
        assert record.changed_seconds == seconds
        # The model path (times as datetimes) tells the same time.
        model = Person.model_validate(person)
        registered = model.registrant_detail
        times = [model.updated_at, registered.updated_at if registered is not None else None]
        assert max(to_timestamp(t) for t in times) == seconds


@pytest.mark.parametrize(
    "odd",
    [
        {"messages_count": 2.5},  # a fraction where a count is expected
        {"questions_count": "1"},  # a numeric string
        {"created_at": "1720628127"},  # a time as text
        {"created_at": 10**15},  # a time no datetime holds
        {"email": 42},  # a wrong type: that person is unreadable
    ],
)
def test_a_people_page_with_odd_types_goes_the_tolerant_way(odd: dict[str, Any]) -> None:
    person = {**PERSON, "attributes": {**PERSON["attributes"], **odd}}
    content = _people_page(person, PERSON | {"id": "second"})

    assert decode_people_page(content) is None  # the strict decode declines the page
    page = Page.parse(json.loads(content), Person)  # … and the tolerant parse reads it
    assert "second" in [p.id for p in page.items]
    assert len(page.items) + len(page.skipped) == 2


def test_a_person_of_another_type_is_not_decoded_as_a_person() -> None:
    assert decode_people_page(_people_page({**PERSON, "type": "sessions"})) is None
    assert decode_people_page(b'{"data": {"id": "x"}}') is None
    assert decode_people_page(b"<html>") is None
