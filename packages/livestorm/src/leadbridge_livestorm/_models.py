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
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AliasChoices, BeforeValidator, Field, field_validator, model_validator

from ._answer_lookup import AnswerLookup, FieldValue
from ._jsonapi import ApiError, JsonApiModel, Resource, Timestamp


def _lenient_number(value: Any) -> Any:
    """Numbers as Livestorm may send them: ``87.5``, ``"87.5"``, ``85``; ``""`` is unset."""
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _lenient_count(value: Any) -> Any:
    """A count that came as a fraction or a numeric string still counts (rounded)."""
    value = _lenient_number(value)
    if value is None:
        return 0
    if isinstance(value, str):
        value = float(value)
    if isinstance(value, float):
        return round(value)
    return value


#: A measure that may be fractional (attendance rate and duration, durations).
Number = Annotated[float | None, BeforeValidator(_lenient_number)]
#: A count (messages, questions…): whole, but never failing over ``2.0`` or ``"2"``.
Count = Annotated[int, BeforeValidator(_lenient_count)]


class Organization(Resource):
    """``GET /organization``: the workspace the token belongs to."""

    resource_type = "organizations"

    name: str = ""
    slug: str = ""


class RegistrationFormField(JsonApiModel):
    """One field of an event's registration form (``Event.fields``).

    ``custom`` marks fields the organizer added (company, job title…). ``type`` is Livestorm's
    word for it (``text``, ``textarea``, ``multiple``, ``dropdown``, ``checkbox``… — kept as
    sent, unknown ones included). ``options`` are the choices of a choice field, read from
    either shape Livestorm uses: ``{"items": [{"value": …}], "multiple_answers": bool}`` or a
    plain list; ``multiple_answers`` says whether several may be picked.
    """

    id: str
    type: str = "text"
    order: Count = 0
    required: bool = False
    custom: bool = False
    options: tuple[str, ...] | None = None
    multiple_answers: bool = False

    @field_validator("type", mode="before")
    @classmethod
    def _type_word(cls, value: Any) -> Any:
        return "text" if value is None else str(value)

    @field_validator("required", "custom", mode="before")
    @classmethod
    def _flag(cls, value: Any) -> Any:
        return bool(value) if value is None or isinstance(value, int) else value

    @model_validator(mode="before")
    @classmethod
    def _read_options(cls, value: Any) -> Any:
        if not isinstance(value, Mapping) or "options" not in value:
            return value
        data = dict(value)
        options = data.pop("options")
        if isinstance(options, Mapping):
            if "multiple_answers" in options and "multiple_answers" not in data:
                data["multiple_answers"] = bool(options.get("multiple_answers"))
            options = options.get("items")
        data["options"] = _option_values(options)
        return data

    @property
    def is_choice(self) -> bool:
        return self.options is not None


def _option_values(items: Any) -> tuple[str, ...] | None:
    """Option values from a list of strings or of ``{"value"|"id"|"label": …}`` objects;
    anything else is no list of options (``None``), never an error."""
    if not isinstance(items, list):
        return None
    values = []
    for item in items:
        if isinstance(item, Mapping):
            item = item.get("value", item.get("id", item.get("label")))
        if item is not None and not isinstance(item, Mapping | list):
            values.append(str(item))
    return tuple(values)


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


class RegistrantDetail(AnswerLookup, JsonApiModel):
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
    attendance_rate: Number = None
    attendance_duration: Number = None
    has_viewed_replay: bool = False
    registration_type: str | None = None
    is_highlighted: bool = False
    is_guest_speaker: bool = False
    session_role: str | None = None


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
    messages_count: Count = 0
    questions_count: Count = 0
    votes_count: Count = 0
    up_votes_count: Count = 0
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
    estimated_duration: Number = None
    description: str | None = None
    status: str | None = None
    scheduling_status: str | None = None
    language: str | None = None
    published_at: Timestamp = None
    created_at: Timestamp = None
    updated_at: Timestamp = None
    owner: Person | None = None
    sessions_count: Count = 0
    fields: tuple[RegistrationFormField, ...] = ()

    @field_validator("fields", mode="before")
    @classmethod
    def _form_fields(cls, value: Any) -> Any:
        # A form field without an id cannot be answered: drop it, keep the event.
        if not isinstance(value, list):
            return ()
        return [item for item in value if isinstance(item, Mapping) and item.get("id")]

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
    attendees_count: Count = 0
    registrants_count: Count = 0
    duration: Number = None
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
    total_items: Count = 0
    total_processed_items: Count = 0
    total_success: Count = 0
    total_fail: Count = 0
    created_at: Timestamp = None
    updated_at: Timestamp = None

    @property
    def is_finished(self) -> bool:
        return self.status in ("ended", "failed")


class TaskOutcome(StrEnum):
    """What one item of a bulk job came to, as far as its task proves it."""

    REGISTERED = "registered"
    ALREADY_REGISTERED = "already_registered"
    FAILED = "failed"
    #: The task does not say (an unknown shape, still processing): ask the single endpoint.
    UNKNOWN = "unknown"


_SUCCESS_WORDS = frozenset(
    {"succeeded", "success", "successful", "created", "completed", "done", "registered", "ok"}
)
_FAILURE_WORDS = frozenset({"failed", "failure", "error", "errored", "rejected", "invalid"})
_CONFLICT_WORDS = ("conflict", "already", "409", "taken", "exists")


class JobTask(JsonApiModel):
    """One item of a bulk job, from ``GET /jobs/{id}/tasks``, read from any shape.

    Livestorm documents only that a task of a created registrant carries the registrant's
    details and a failed one its error; the exact shape is not published. So this model reads
    what it can find — a position (``index``), a ``status`` word, the ``email`` (top level, in
    ``fields``, in a nested person), the person's id, errors (a list, an object or a string)
    — and :attr:`outcome` claims a registration only on proof: a success status, or the
    registrant's own details with no error. Anything else is :attr:`TaskOutcome.UNKNOWN`.
    """

    id: str | None = None
    type: str | None = None
    index: int | None = None
    status: str | None = None
    email: str | None = None
    person_id: str | None = None
    errors: tuple[ApiError, ...] = ()
    has_person: bool = False

    @model_validator(mode="before")
    @classmethod
    def _read(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            raise ValueError("a task is an object")
        attributes = value.get("attributes")
        attributes = attributes if isinstance(attributes, Mapping) else {}
        merged: dict[str, Any] = {
            **attributes,
            **{k: value[k] for k in ("id", "type") if k in value},
        }
        person = _first_mapping(attributes, ("person", "people", "registrant", "data", "result"))
        person_attributes = person.get("attributes") if isinstance(person, Mapping) else None
        if isinstance(person_attributes, Mapping):
            person = {**person_attributes, "id": person.get("id")}
        kind = _text(value.get("type"))
        is_person = kind == "people"
        email = (
            _text(attributes.get("email"))
            or _field_email(attributes.get("fields"))
            or (_text(person.get("email")) if person else None)
            or (_field_email(person.get("fields")) if person else None)
        )
        person_id = (
            _text(attributes.get("person_id"))
            or _text(attributes.get("people_id"))
            or (_text(person.get("id")) if person else None)
            or _related_person(value.get("relationships"))
            or (_text(value.get("id")) if is_person else None)
        )
        index = next(
            (attributes[k] for k in ("index", "position") if isinstance(attributes.get(k), int)),
            None,
        )
        return {
            "id": _text(merged.get("id")),
            "type": kind,
            "index": index if not isinstance(index, bool) else None,
            "status": _text(attributes.get("status")),
            "email": email,
            "person_id": person_id,
            "errors": _errors(attributes.get("errors", attributes.get("error"))),
            "has_person": bool(is_person or person or attributes.get("registrant_detail")),
        }

    @property
    def outcome(self) -> TaskOutcome:
        status = (self.status or "").strip().lower()
        if self.errors:
            text = " ".join(
                f"{e.status} {e.code} {e.title} {e.detail}".lower() for e in self.errors
            )
            if any(word in text for word in _CONFLICT_WORDS):
                return TaskOutcome.ALREADY_REGISTERED
            return TaskOutcome.FAILED
        if status in _SUCCESS_WORDS:
            return TaskOutcome.REGISTERED
        if not status and self.has_person and self.person_id and self.email:
            return TaskOutcome.REGISTERED  # the registrant's own details, no error
        return TaskOutcome.UNKNOWN

    @property
    def already_registered(self) -> bool:
        return self.outcome is TaskOutcome.ALREADY_REGISTERED

    @property
    def reason(self) -> str:
        """Why the item failed, in Livestorm's words when it gave any."""
        details = [error.detail or error.title for error in self.errors]
        return "; ".join(d for d in details if d) or f"the bulk job's task ended {self.status}"


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, Mapping | list | bool):
        return None
    text = str(value).strip()
    return text or None


def _first_mapping(attributes: Mapping[str, Any], keys: tuple[str, ...]) -> Mapping[str, Any]:
    for key in keys:
        if isinstance(attributes.get(key), Mapping):
            found: Mapping[str, Any] = attributes[key]
            return found
    return {}


def _field_email(fields: Any) -> str | None:
    if isinstance(fields, list):
        for item in fields:
            if isinstance(item, Mapping) and item.get("id") == "email":
                return _text(item.get("value"))
    return None


def _related_person(relationships: Any) -> str | None:
    if not isinstance(relationships, Mapping):
        return None
    for key in ("person", "people", "registrant"):
        link = relationships.get(key)
        data = link.get("data") if isinstance(link, Mapping) else None
        if isinstance(data, Mapping):
            return _text(data.get("id"))
    return None


def _errors(value: Any) -> tuple[ApiError, ...]:
    if value is None or value == [] or value == "":
        return ()
    items = value if isinstance(value, list) else [value]
    errors = []
    for item in items:
        if isinstance(item, Mapping):
            errors.append(ApiError.model_validate(item))
        elif item is not None:
            errors.append(ApiError(detail=str(item)))
    return tuple(errors)


class Webhook(Resource):
    """A webhook subscription: one Livestorm ``event`` name posted to ``url``.

    Livestorm calls the address ``url`` (``target_url`` is read too, for older answers).
    """

    resource_type = "webhooks"

    event: str = ""
    url: str = Field(default="", validation_alias=AliasChoices("url", "target_url"))
    created_at: Timestamp = None
