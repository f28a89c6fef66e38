"""Typed read models of the Livestorm resources the integration uses.

Parse a resource as it comes off the wire::

    event = Event.model_validate(document["data"])
    page = Page.parse(document, Person)        # a list document, typed
    for person in page.items:
        person.registrant_detail.attended

Times are aware UTC datetimes, or ``None`` where Livestorm sends ``0`` (see
:func:`~leadbridge_livestorm.parse_timestamp`). Unknown attributes are ignored, so a new
Livestorm attribute never breaks a sync.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import AliasChoices, Field, field_validator

from ._jsonapi import ApiError, JsonApiModel, Resource, Timestamp

#: A registration answer: text for text and single-select fields, a list for multi-selects.
FieldValue = str | int | float | bool | list[str] | None


class Organization(Resource):
    """``GET /organization``: the workspace the token belongs to."""

    resource_type = "organizations"

    name: str = ""
    slug: str = ""


class RegistrationFormField(JsonApiModel):
    """One field of an event's registration form (``Event.fields``).

    ``custom`` marks fields the organizer added (company, job title…); ``options`` lists the
    choices of a select or multi-select field.
    """

    id: str
    type: str = "text"
    order: int = 0
    required: bool = False
    custom: bool = False
    options: tuple[str, ...] | None = None

    @field_validator("options", mode="before")
    @classmethod
    def _option_values(cls, value: Any) -> Any:
        # (inferred) options may come as plain strings or as {"value"/"id", "label"} objects.
        if isinstance(value, list):
            return [
                item.get("value", item.get("id", item.get("label")))
                if isinstance(item, Mapping)
                else item
                for item in value
            ]
        return value


class FieldAnswer(JsonApiModel):
    """One answer in ``registrant_detail.fields``."""

    id: str
    type: str = "text"
    value: FieldValue = None
    required: bool = False
    custom: bool = False


class ReplayViewDetail(JsonApiModel):
    """Set when the person watched the replay (``people.watched_replay``)."""

    watched_at: Timestamp = None


class RegistrantDetail(JsonApiModel):
    """A person's registration to one session, and how they attended it."""

    event_id: str | None = None
    session_id: str | None = None
    created_at: Timestamp = None
    updated_at: Timestamp = None
    fields: tuple[FieldAnswer, ...] = ()
    referrer: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_term: str | None = None
    utm_content: str | None = None
    utm_campaign: str | None = None
    browser_name: str | None = None
    os_name: str | None = None
    ip_city: str | None = None
    ip_country_code: str | None = None
    connection_link: str | None = None
    attended: bool = False
    attendance_rate: int | None = None
    attendance_duration: int | None = None
    has_viewed_replay: bool = False
    registration_type: str | None = None
    is_highlighted: bool = False
    is_guest_speaker: bool = False
    session_role: str | None = None

    def value(self, field_id: str) -> FieldValue:
        """The answer to form field ``field_id`` (``None`` when absent)."""
        for answer in self.fields:
            if answer.id == field_id:
                return answer.value
        return None

    @property
    def answers(self) -> dict[str, FieldValue]:
        """Every answer by field id, built-in and custom."""
        return {answer.id: answer.value for answer in self.fields}

    @property
    def custom_answers(self) -> dict[str, FieldValue]:
        """The answers to the organizer's own fields (``custom: true``)."""
        return {answer.id: answer.value for answer in self.fields if answer.custom}


class Person(Resource):
    """A person (``people``); in a session's list it carries that session's registration.

    Team members (``role == "team_member"``) may carry a partial ``registrant_detail``;
    ``email`` can be missing.
    """

    resource_type = "people"

    role: str = "participant"
    created_at: Timestamp = None
    updated_at: Timestamp = None
    timezone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    avatar_link: str | None = None
    registrant_detail: RegistrantDetail | None = None
    messages_count: int = 0
    questions_count: int = 0
    votes_count: int = 0
    up_votes_count: int = 0
    replay_view_detail: ReplayViewDetail | None = None

    @property
    def is_team_member(self) -> bool:
        return self.role == "team_member"


class Event(Resource):
    """An event (webinar); its occurrences are sessions (``session_ids``)."""

    resource_type = "events"

    title: str = ""
    slug: str | None = None
    registration_link: str | None = None
    estimated_duration: int | None = None
    description: str | None = None
    status: str | None = None
    scheduling_status: str | None = None
    language: str | None = None
    published_at: Timestamp = None
    created_at: Timestamp = None
    updated_at: Timestamp = None
    owner: Person | None = None
    sessions_count: int = 0
    fields: tuple[RegistrationFormField, ...] = ()

    @property
    def session_ids(self) -> tuple[str, ...]:
        return self.related_ids("sessions")

    @property
    def custom_fields(self) -> tuple[RegistrationFormField, ...]:
        """The organizer's own registration fields (company, job title…)."""
        return tuple(field for field in self.fields if field.custom)


class Session(Resource):
    """One occurrence of an event. ``duration`` (seconds) is ``None`` until it ran."""

    resource_type = "sessions"

    event_id: str | None = None
    status: str | None = None
    timezone: str | None = None
    room_link: str | None = None
    name: str | None = None
    attendees_count: int = 0
    registrants_count: int = 0
    duration: int | None = None
    estimated_started_at: Timestamp = None
    started_at: Timestamp = None
    ended_at: Timestamp = None
    canceled_at: Timestamp = None
    created_at: Timestamp = None
    updated_at: Timestamp = None
    breakout_room_parent_session_id: str | None = None


class Job(Resource):
    """A bulk job (``POST /sessions/{id}/people/bulk``); poll until :attr:`is_finished`."""

    resource_type = "jobs"

    status: str = "processing"
    total_items: int = 0
    total_processed_items: int = 0
    total_success: int = 0
    total_fail: int = 0
    created_at: Timestamp = None
    updated_at: Timestamp = None

    @property
    def is_finished(self) -> bool:
        return self.status in ("ended", "failed")


class JobTask(Resource):
    """(inferred) One item of a bulk job, from ``GET /jobs/{id}/tasks``.

    ``index`` is the item's position in the request; ``status`` is ``processing``,
    ``succeeded`` or ``failed``; ``errors`` say why it failed (``status: "conflict"`` when the
    email was already registered, in which case ``person_id`` names the existing person).
    """

    resource_type = "tasks"

    index: int = 0
    status: str = "processing"
    email: str | None = None
    person_id: str | None = None
    errors: tuple[ApiError, ...] = ()

    @property
    def already_registered(self) -> bool:
        return any(error.status == "conflict" for error in self.errors)


class Webhook(Resource):
    """A webhook subscription: one Livestorm ``event`` name posted to ``url``.

    Livestorm calls the address ``url`` (``target_url`` is read too, for older answers).
    """

    resource_type = "webhooks"

    event: str = ""
    url: str = Field(default="", validation_alias=AliasChoices("url", "target_url"))
    created_at: Timestamp = None
