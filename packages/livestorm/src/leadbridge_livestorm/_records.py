"""People pages decoded straight from the response bytes into typed records (msgspec).

A session's people list is the bulk of a pull: 50 people a call, each with a registration
and eight or so form answers. :func:`decode_people_page` turns the page's bytes into
:class:`PersonRecord` objects in one pass (about ten times faster than JSON-decoding the page
and validating each person into a :class:`~leadbridge_livestorm.Person`, and none of these
objects is tracked by the garbage collector).

Records read like :class:`~leadbridge_livestorm.Person` (``person.email``,
``person.registrant_detail.value("company")``, aware UTC datetimes or ``None`` for Livestorm's
``0``) and the mapping functions take either. The decode is strict: a page holding anything
unusual — a fraction where a count is expected, a numeric string, a person of another type —
is not decoded here at all (:func:`decode_people_page` returns ``None``) and goes through the
tolerant model path instead, which keeps every readable person and skips the rest with a
reason. Unknown attributes are ignored on both paths.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

import msgspec

from ._answer_lookup import AnswerLookup, FieldValue
from ._jsonapi import Page, PageMeta
from ._models import Person


def _time(seconds: int | None) -> datetime | None:
    """Livestorm's time rule (:func:`~leadbridge_livestorm.parse_timestamp`): ``0`` is unset."""
    return datetime.fromtimestamp(seconds, tz=UTC) if seconds else None


class AnswerRecord(msgspec.Struct, frozen=True, gc=False):
    """One answer in ``registrant_detail.fields`` (as :class:`FieldAnswer`)."""

    id: str
    type: str = "text"
    value: FieldValue = None
    required: bool = False
    custom: bool = False


class ReplayRecord(msgspec.Struct, frozen=True, gc=False):
    """``replay_view_detail`` (as :class:`ReplayViewDetail`)."""

    watched_seconds: int | None = msgspec.field(default=None, name="watched_at")

    @property
    def watched_at(self) -> datetime | None:
        return _time(self.watched_seconds)


class RegistrationRecord(AnswerLookup, msgspec.Struct, frozen=True, gc=False):
    """A person's registration to one session (as :class:`RegistrantDetail`)."""

    event_id: str | None = None
    session_id: str | None = None
    created_seconds: int | None = msgspec.field(default=None, name="created_at")
    updated_seconds: int | None = msgspec.field(default=None, name="updated_at")
    fields: tuple[AnswerRecord, ...] = ()
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
    attendance_rate: float | None = None
    attendance_duration: float | None = None
    has_viewed_replay: bool = False
    registration_type: str | None = None
    is_highlighted: bool = False
    is_guest_speaker: bool = False
    session_role: str | None = None

    @property
    def created_at(self) -> datetime | None:
        return _time(self.created_seconds)

    @property
    def updated_at(self) -> datetime | None:
        return _time(self.updated_seconds)


class _PersonAttributes(msgspec.Struct, frozen=True, gc=False):
    role: str = "participant"
    created_at: int | None = None
    updated_at: int | None = None
    timezone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    avatar_link: str | None = None
    registrant_detail: RegistrationRecord | None = None
    messages_count: int = 0
    questions_count: int = 0
    votes_count: int = 0
    up_votes_count: int = 0
    replay_view_detail: ReplayRecord | None = None


class PersonRecord(msgspec.Struct, frozen=True, gc=False):
    """A person of a people list, as :class:`~leadbridge_livestorm.Person` reads (the
    JSON:API ``attributes`` are reached through properties; ``relationships`` are not kept).
    """

    id: str
    attributes: _PersonAttributes = msgspec.field(default_factory=_PersonAttributes)
    type: Literal["people"] | None = None

    @property
    def role(self) -> str:
        return self.attributes.role

    @property
    def created_at(self) -> datetime | None:
        return _time(self.attributes.created_at)

    @property
    def updated_at(self) -> datetime | None:
        return _time(self.attributes.updated_at)

    @property
    def timezone(self) -> str | None:
        return self.attributes.timezone

    @property
    def first_name(self) -> str | None:
        return self.attributes.first_name

    @property
    def last_name(self) -> str | None:
        return self.attributes.last_name

    @property
    def email(self) -> str | None:
        return self.attributes.email

    @property
    def avatar_link(self) -> str | None:
        return self.attributes.avatar_link

    @property
    def registrant_detail(self) -> RegistrationRecord | None:
        return self.attributes.registrant_detail

    @property
    def messages_count(self) -> int:
        return self.attributes.messages_count

    @property
    def questions_count(self) -> int:
        return self.attributes.questions_count

    @property
    def votes_count(self) -> int:
        return self.attributes.votes_count

    @property
    def up_votes_count(self) -> int:
        return self.attributes.up_votes_count

    @property
    def replay_view_detail(self) -> ReplayRecord | None:
        return self.attributes.replay_view_detail

    @property
    def is_team_member(self) -> bool:
        return self.role == "team_member"

    @property
    def changed_seconds(self) -> int:
        """When the person or its registration last changed, in Unix seconds (``0``: never
        said), as ``filter[updated_since]`` compares: read from the raw seconds, no datetime
        built (a pull asks it of every person)."""
        attributes = self.attributes
        detail = attributes.registrant_detail
        registration = detail.updated_seconds if detail is not None else None
        return max(attributes.updated_at or 0, registration or 0)


#: A person as a people list gives it: a record, or a model where the tolerant parse read it.
PersonLike = Person | PersonRecord


class _Meta(msgspec.Struct, frozen=True, gc=False):
    current_page: int = 0
    previous_page: int | None = None
    next_page: int | None = None
    record_count: int = 0
    page_count: int = 0
    items_per_page: int = 0


class _PeoplePage(msgspec.Struct, frozen=True):
    data: list[PersonRecord]
    meta: _Meta = msgspec.field(default_factory=_Meta)
    included: list[Any] = msgspec.field(default_factory=list)


_DECODER = msgspec.json.Decoder(_PeoplePage)
# The Unix seconds a datetime holds (up to the year 9999): others go the tolerant path.
_LATEST = 253_402_300_799


def decode_people_page(content: bytes) -> Page[Any] | None:
    """The people list page in ``content`` as records, or ``None`` when the strict decode
    cannot read it (the caller then parses the page tolerantly, person by person)."""
    try:
        page = _DECODER.decode(content)
    except msgspec.DecodeError:  # ValidationError is a DecodeError
        return None
    for person in page.data:
        if not _times_fit(person):
            return None
    meta = page.meta
    # Built without validation: the records are typed already, and pydantic has no schema
    # for them (``Page.items`` holds them as they are).
    return Page.model_construct(
        items=tuple(page.data),
        meta=PageMeta(
            current_page=meta.current_page,
            previous_page=meta.previous_page,
            next_page=meta.next_page,
            record_count=meta.record_count,
            page_count=meta.page_count,
            items_per_page=meta.items_per_page,
        ),
        included=tuple(entry for entry in page.included if isinstance(entry, dict)),
        skipped=(),
    )


def _times_fit(person: PersonRecord) -> bool:
    """Whether every time of ``person`` converts to a datetime (as the models require)."""
    attributes = person.attributes
    stamps = [attributes.created_at, attributes.updated_at]
    detail = attributes.registrant_detail
    if detail is not None:
        stamps += (detail.created_seconds, detail.updated_seconds)
    replay = attributes.replay_view_detail
    if replay is not None:
        stamps.append(replay.watched_seconds)
    return all(s is None or 0 <= s <= _LATEST for s in stamps)
