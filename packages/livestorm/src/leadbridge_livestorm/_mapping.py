"""Livestorm resources → contact fields and plugin table rows: pure functions, no I/O.

The default contact mapping lives here, in one place: ``email``, ``first_name``,
``last_name``, and the registration form's answers by field id (:data:`DEFAULT_FORM_FIELDS`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ._answer_lookup import FieldValue
from ._errors import PersonSkippedError
from ._models import Event, Session
from ._records import PersonLike

#: Registration form field id → contact field, copied by default when the person answered.
DEFAULT_FORM_FIELDS: Mapping[str, str] = {
    "company": "company",
    "job_title": "job_title",
    "phone": "phone",
}

#: Form answers the contact gets from the person itself, not from ``answers``.
_BUILTIN_FIELDS = frozenset({"email", "first_name", "last_name"})

# Column lengths of the plugin tables: longer strings from the API are clipped, not refused.
_SHORT = 255
_EMAIL = 320


def _clip(value: str | None, length: int) -> str | None:
    return value if value is None or len(value) <= length else value[:length]


def _empty(value: FieldValue) -> bool:
    return value is None or value == "" or value == []


def person_to_contact_fields(
    person: PersonLike,
    form_fields: Mapping[str, str] | Iterable[str] = DEFAULT_FORM_FIELDS,
    *,
    include_team_members: bool = False,
) -> dict[str, Any]:
    """The contact fields of a Livestorm person, by the default mapping.

    ``email``, ``first_name`` and ``last_name`` come from the person; each registration form
    answer named in ``form_fields`` (``{form field id: contact field}``, or ids kept under the
    same name) is copied when answered. Unanswered values are left out, so they never wipe
    what the contact already holds.

    Raises :class:`PersonSkippedError` (skippable: record it and go on) for a team member
    unless ``include_team_members``, and for a person without an email.
    """
    if person.is_team_member and not include_team_members:
        raise PersonSkippedError(
            f"Livestorm person {person.id} is a team member (not imported as a contact)",
            reason="team_member",
            person_id=person.id,
        )
    email = (person.email or "").strip()
    if not email:
        raise PersonSkippedError(
            f"Livestorm person {person.id} has no email address",
            reason="no_email",
            person_id=person.id,
        )
    fields: dict[str, Any] = {"email": email}
    if person.first_name:
        fields["first_name"] = person.first_name
    if person.last_name:
        fields["last_name"] = person.last_name
    mapping = (
        form_fields
        if isinstance(form_fields, Mapping)
        else {field_id: field_id for field_id in form_fields}
    )
    detail = person.registrant_detail
    if detail is not None:
        for field_id, target in mapping.items():
            value = detail.value(field_id)
            if not _empty(value) and target not in fields:
                fields[target] = value
    return fields


def event_values(event: Event) -> dict[str, Any]:
    """The ``livestorm_events`` row of an event (without ``synced_at``)."""
    return {
        "id": event.id,
        "title": _clip(event.title, 512) or "",
        "slug": _clip(event.slug, _SHORT),
        "status": _clip(event.status, 32),
        "scheduling_status": _clip(event.scheduling_status, 32),
        "registration_link": event.registration_link,
        "estimated_duration": _whole(event.estimated_duration),
        "sessions_count": event.sessions_count,
        "fields": [field.model_dump(mode="json") for field in event.fields],
        "published_at": event.published_at,
        "created_at": event.created_at,
        "updated_at": event.updated_at,
    }


def session_values(session: Session, *, event_id: str | None = None) -> dict[str, Any]:
    """The ``livestorm_sessions`` row of a session (without ``synced_at``)."""
    owner = session.event_id or event_id
    if not owner:
        raise ValueError(f"Livestorm session {session.id} does not name its event")
    return {
        "id": session.id,
        "event_id": owner,
        "name": _clip(session.name, 512),
        "status": _clip(session.status, 32),
        "timezone": _clip(session.timezone, 64),
        "room_link": session.room_link,
        "attendees_count": session.attendees_count,
        "registrants_count": session.registrants_count,
        "duration": _whole(session.duration),
        "estimated_started_at": session.estimated_started_at,
        "started_at": session.started_at,
        "ended_at": session.ended_at,
        "canceled_at": session.canceled_at,
        "created_at": session.created_at,
        "updated_at": session.updated_at,
    }


def registration_values(
    person: PersonLike,
    *,
    contact_id: int | None = None,
    session_id: str | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """The ``livestorm_registrations`` row of a person as a session's people list gives it.

    ``session_id`` / ``event_id`` fill in what the person's ``registrant_detail`` leaves out.
    Raises :class:`PersonSkippedError` (``reason="no_registration"``) for a person without a
    registration.
    """
    detail = person.registrant_detail
    session = (detail.session_id if detail else None) or session_id
    event = (detail.event_id if detail else None) or event_id
    if detail is None or not session or not event:
        raise PersonSkippedError(
            f"Livestorm person {person.id} carries no registration to a session",
            reason="no_registration",
            person_id=person.id,
        )
    watched_at = person.replay_view_detail.watched_at if person.replay_view_detail else None
    return {
        "session_id": session,
        "event_id": event,
        "person_id": person.id,
        "contact_id": contact_id,
        "email": _clip((person.email or "").strip() or None, _EMAIL),
        "role": _clip(person.role, 32) or "participant",
        "registered_at": detail.created_at,
        "attended": detail.attended,
        # Stored as whole percent and seconds; Livestorm may send fractions (87.5).
        "attendance_rate": _whole(detail.attendance_rate),
        "attendance_duration": _whole(detail.attendance_duration),
        "has_viewed_replay": detail.has_viewed_replay or watched_at is not None,
        "replay_watched_at": watched_at,
        "messages_count": person.messages_count,
        "questions_count": person.questions_count,
        "votes_count": person.votes_count,
        "up_votes_count": person.up_votes_count,
        "registration_type": _clip(detail.registration_type, 32),
        "referrer": detail.referrer,
        "utm_source": _clip(detail.utm_source, _SHORT),
        "utm_medium": _clip(detail.utm_medium, _SHORT),
        "utm_campaign": _clip(detail.utm_campaign, _SHORT),
        "utm_term": _clip(detail.utm_term, _SHORT),
        "utm_content": _clip(detail.utm_content, _SHORT),
        "answers": {
            answer.id: answer.value
            for answer in detail.fields
            if answer.id not in _BUILTIN_FIELDS and answer.value is not None
        },
        "updated_at": detail.updated_at,
    }


def _whole(value: float | None) -> int | None:
    return None if value is None else round(value)
