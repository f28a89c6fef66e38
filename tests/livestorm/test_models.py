"""The typed JSON:API models: the time rule, flattening, pages, errors, the signature."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from leadbridge_livestorm import (
    ApiError,
    Event,
    Job,
    Organization,
    Page,
    Person,
    Session,
    Webhook,
    parse_timestamp,
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
