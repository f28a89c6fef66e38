"""The fake's state: a Livestorm workspace in memory, and the helpers tests mutate it with.

Records are plain slotted dataclasses keyed by UUID strings. Every time is integer Unix seconds
on the workspace's own clock (``Workspace.clock``), which only moves when a test moves it, so
``updated_since`` filtering is deterministic.

A change to a registration (attendance, replay, answers) stamps the registration, its session
and its event with the clock, so a client can find it through ``filter[updated_since]`` at each
level (events → sessions → people); ``Workspace.registration_changes_stamp_sessions = False``
stamps the registration only. A change to a person's own attributes (name, email) stamps
only the person: it shows in ``/people`` and in each registration's ``updated_at`` filter.
"""

from __future__ import annotations

import random
import re
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: 2026-01-01T00:00:00Z: the default "now" of a workspace, so generated data never drifts.
DEFAULT_NOW = 1_767_225_600

DAY = 86_400

#: Every webhook event name Livestorm can deliver.
WEBHOOK_EVENTS = (
    "event.created",
    "event.published",
    "session.created",
    "session.started",
    "session.ended",
    "people.registered",
    "people.attended",
    "people.not_attended",
    "people.watched_replay",
    "job.created",
    "job.ended",
)

SESSION_STATUSES = (
    "upcoming",
    "live",
    "on_demand",
    "past",
    "past_not_started",
    "canceled",
    "draft",
)

_SLUG_JUNK = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    return _SLUG_JUNK.sub("-", text.lower()).strip("-") or "event"


class RegistrationConflictError(ValueError):
    """The email is already registered on that session (the API answers 409)."""

    def __init__(self, registration: RegistrationRecord) -> None:
        email = registration.person.email or registration.person.id
        super().__init__(f"{email} is already registered on session {registration.session_id}")
        self.registration = registration


@dataclass(slots=True)
class FormField:
    """One field of an event's registration form.

    ``type`` is ``text`` or, for a choice field, ``multiple``: its ``options`` go out the way
    Livestorm's published examples show them, ``{"items": [{"value": …}],
    "multiple_answers": bool}``; ``multiple_answers`` fields take a list of the values,
    others one value.
    """

    id: str
    type: str = "text"
    order: int = 0
    required: bool = False
    custom: bool = False
    options: tuple[str, ...] | None = None
    multiple_answers: bool = False

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "order": self.order,
            "required": self.required,
        }
        if self.custom:
            data["custom"] = True
        if self.options is not None:
            data["options"] = {
                "items": [{"value": value} for value in self.options],
                "multiple_answers": self.multiple_answers,
            }
        return data


DEPARTMENTS = ("marketing", "sales", "engineering", "product", "finance", "hr")
INTERESTS = ("webinars", "product_updates", "pricing", "integrations", "case_studies")


def default_form() -> list[FormField]:
    """The form the generator gives every event: email, names and five custom fields."""
    return [
        FormField("email", "text", 0, required=True),
        FormField("first_name", "text", 1),
        FormField("last_name", "text", 2),
        FormField("company", "text", 3, custom=True),
        FormField("job_title", "text", 4, custom=True),
        FormField("phone", "text", 5, custom=True),
        FormField("department", "multiple", 6, custom=True, options=DEPARTMENTS),
        FormField(
            "interests", "multiple", 7, custom=True, options=INTERESTS, multiple_answers=True
        ),
    ]


@dataclass(slots=True, eq=False)
class OrganizationRecord:
    id: str
    name: str
    slug: str


@dataclass(slots=True, eq=False)
class PersonRecord:
    """A person of the workspace, one per email (people without email each stand alone)."""

    id: str
    email: str | None
    first_name: str | None
    last_name: str | None
    created_at: int
    updated_at: int
    role: str = "participant"
    timezone: str | None = None
    avatar_link: str | None = None

    @property
    def is_team_member(self) -> bool:
        return self.role == "team_member"


@dataclass(slots=True, eq=False)
class RegistrationRecord:
    """A person registered on a session, with their attendance.

    ``answers`` holds the custom form answers; the built-in ``email``, ``first_name`` and
    ``last_name`` answers are read from the person. ``replay_watched_at`` is ``0`` until the
    person watched the replay.
    """

    person: PersonRecord
    session_id: str
    event_id: str
    created_at: int
    updated_at: int
    answers: Mapping[str, Any] = field(default_factory=dict)
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
    attended: bool = False
    attendance_rate: float | None = None
    attendance_duration: float | None = None
    replay_watched_at: int = 0
    registration_type: str = "API"
    is_highlighted: bool = False
    is_guest_speaker: bool = False
    session_role: str | None = None
    messages_count: int = 0
    questions_count: int = 0
    votes_count: int = 0
    up_votes_count: int = 0

    @property
    def changed_at(self) -> int:
        """What ``filter[updated_since]`` compares: the later of registration and person."""
        return max(self.updated_at, self.person.updated_at)


@dataclass(slots=True, eq=False)
class SessionRecord:
    """One occurrence of an event; ``registrations`` are keyed by person id, oldest first."""

    id: str
    event_id: str
    created_at: int
    updated_at: int
    estimated_started_at: int
    status: str = "upcoming"
    timezone: str = "Europe/Paris"
    name: str | None = None
    started_at: int = 0
    ended_at: int = 0
    canceled_at: int = 0
    duration: int | None = None
    breakout_room_parent_session_id: str | None = None
    registrations: dict[str, RegistrationRecord] = field(default_factory=dict)

    @property
    def attendees_count(self) -> int:
        return sum(1 for reg in self.registrations.values() if reg.attended)


@dataclass(slots=True, eq=False)
class EventRecord:
    """An event: its registration ``fields`` and its sessions, in creation order."""

    id: str
    title: str
    slug: str
    created_at: int
    updated_at: int
    published_at: int = 0
    description: str | None = None
    language: str = "en"
    estimated_duration: int = 60  # minutes (inferred)
    status: str = "published"
    owner_id: str | None = None
    fields: list[FormField] = field(default_factory=default_form)
    session_ids: list[str] = field(default_factory=list)

    def form_field(self, field_id: str) -> FormField | None:
        for item in self.fields:
            if item.id == field_id:
                return item
        return None


@dataclass(slots=True, eq=False)
class TaskRecord:
    """(inferred) One item of a bulk job: ``status`` is processing, succeeded or failed."""

    id: str
    index: int
    attributes: Mapping[str, Any]
    status: str = "processing"
    email: str | None = None
    person_id: str | None = None
    errors: list[dict[str, str]] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class JobRecord:
    """A bulk registration job; it ends after the fake's ``job_delay``."""

    id: str
    session_id: str
    created_at: int
    updated_at: int
    tasks: list[TaskRecord]
    status: str = "processing"

    @property
    def total_success(self) -> int:
        return sum(1 for task in self.tasks if task.status == "succeeded")

    @property
    def total_fail(self) -> int:
        return sum(1 for task in self.tasks if task.status == "failed")


@dataclass(slots=True, eq=False)
class WebhookRecord:
    """A subscription of ``target_url`` to one webhook ``event``, for the whole workspace.

    ``signed``: made through the REST API (deliveries carry ``x-livestorm-signature``);
    ``False`` for one of Livestorm's Webhooks app, whose deliveries are unsigned.
    """

    id: str
    event: str
    target_url: str
    created_at: int
    signed: bool = True


class Workspace:
    """A Livestorm workspace in memory: events, sessions, people, jobs, webhooks.

    Build one with :func:`~leadbridge_livestorm.testing.generate_workspace` or empty, then
    mutate it with the helpers below (they take :attr:`lock`, so they are safe while the fake
    server is serving). Ids come from a generator seeded by ``seed``: the same calls on the
    same seed give the same ids.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        now: int = DEFAULT_NOW,
        organization_name: str = "Acme Webinars",
    ) -> None:
        self.lock = threading.RLock()
        #: The workspace's "now" in Unix seconds; only tests move it.
        self.clock = now
        self._ids = random.Random(f"ids:{seed}")
        self.organization = OrganizationRecord(
            self.new_id(), organization_name, slugify(organization_name)
        )
        self.events: dict[str, EventRecord] = {}
        self.sessions: dict[str, SessionRecord] = {}
        self.people: dict[str, PersonRecord] = {}
        self.jobs: dict[str, JobRecord] = {}
        self.webhooks: dict[str, WebhookRecord] = {}
        #: Whether a registration's change moves its session's and event's ``updated_at``
        #: (``False``: as the real API may do, only the session's counts tell).
        self.registration_changes_stamp_sessions = True
        self._people_by_email: dict[str, PersonRecord] = {}

    # -- ids and time ---------------------------------------------------------------------

    def new_id(self) -> str:
        return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    def advance(self, seconds: int) -> int:
        """Move the clock forward and return the new time."""
        with self.lock:
            self.clock += int(seconds)
            return self.clock

    # -- lookups --------------------------------------------------------------------------

    def find_person(self, email: str) -> PersonRecord | None:
        """The person with this email (case-insensitive), if any."""
        return self._people_by_email.get(email.strip().lower())

    def registration(self, session_id: str, person_id: str) -> RegistrationRecord:
        """The registration of a person on a session; ``KeyError`` when there is none."""
        return self.sessions[session_id].registrations[person_id]

    def iter_registrations(self) -> Iterator[RegistrationRecord]:
        """Every registration, session by session in creation order."""
        for session in self.sessions.values():
            yield from session.registrations.values()

    def event_registrations(self, event_id: str) -> list[RegistrationRecord]:
        event = self.events[event_id]
        return [
            reg
            for session_id in event.session_ids
            for reg in self.sessions[session_id].registrations.values()
        ]

    def unique_emails(self, *, include_team_members: bool = False) -> set[str]:
        """The lower-cased emails of registered people (what a first sync should import)."""
        return {
            reg.person.email.lower()
            for reg in self.iter_registrations()
            if reg.person.email and (include_team_members or not reg.person.is_team_member)
        }

    def scheduling_status(self, event: EventRecord) -> str:
        """The event's ``scheduling_status``, derived from its sessions."""
        if event.status == "draft":
            return "draft"
        statuses = {self.sessions[sid].status for sid in event.session_ids}
        for status, answer in (("live", "live"), ("upcoming", "upcoming")):
            if status in statuses:
                return answer
        if "on_demand" in statuses:
            return "on_demand"
        if statuses & {"past", "past_not_started"}:
            return "ended"
        if statuses and statuses <= {"canceled"}:
            return "cancelled"
        return "not_scheduled"

    # -- building -------------------------------------------------------------------------

    def add_event(
        self,
        title: str,
        *,
        fields: Sequence[FormField] | None = None,
        description: str | None = None,
        status: str = "published",
        language: str = "en",
        estimated_duration: int = 60,
        owner: PersonRecord | None = None,
        created_at: int | None = None,
    ) -> EventRecord:
        """Add an event (published unless ``status="draft"``) with the default form."""
        with self.lock:
            stamp = self.clock if created_at is None else created_at
            event = EventRecord(
                id=self.new_id(),
                title=title,
                slug=f"{slugify(title)}-{len(self.events) + 1}",
                created_at=stamp,
                updated_at=stamp,
                published_at=stamp if status != "draft" else 0,
                description=description,
                language=language,
                estimated_duration=estimated_duration,
                status=status,
                owner_id=owner.id if owner else None,
                fields=list(fields) if fields is not None else default_form(),
            )
            self.events[event.id] = event
            return event

    def add_session(
        self,
        event_id: str,
        *,
        estimated_started_at: int | None = None,
        status: str = "upcoming",
        name: str | None = None,
        timezone: str = "Europe/Paris",
        started_at: int = 0,
        ended_at: int = 0,
        duration: int | None = None,
        created_at: int | None = None,
    ) -> SessionRecord:
        """Add a session to an event (upcoming, one day ahead of the clock, by default)."""
        if status not in SESSION_STATUSES:
            raise ValueError(f"status {status!r}: use one of {', '.join(SESSION_STATUSES)}")
        with self.lock:
            event = self.events[event_id]
            stamp = self.clock if created_at is None else created_at
            session = SessionRecord(
                id=self.new_id(),
                event_id=event_id,
                created_at=stamp,
                updated_at=stamp,
                estimated_started_at=(
                    self.clock + DAY if estimated_started_at is None else estimated_started_at
                ),
                status=status,
                name=name,
                timezone=timezone,
                started_at=started_at,
                ended_at=ended_at,
                duration=duration,
            )
            self.sessions[session.id] = session
            event.session_ids.append(session.id)
            event.updated_at = max(event.updated_at, stamp)
            return session

    def add_person(
        self,
        email: str | None,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        role: str = "participant",
        timezone: str | None = None,
        created_at: int | None = None,
    ) -> PersonRecord:
        """Add a person (``role="team_member"`` for the organizer's team)."""
        with self.lock:
            if email is not None and self.find_person(email) is not None:
                raise ValueError(f"a person with email {email!r} already exists")
            stamp = self.clock if created_at is None else created_at
            person = PersonRecord(
                id=self.new_id(),
                email=email,
                first_name=first_name,
                last_name=last_name,
                created_at=stamp,
                updated_at=stamp,
                role=role,
                timezone=timezone,
            )
            self.people[person.id] = person
            if email is not None:
                self._people_by_email[email.strip().lower()] = person
            return person

    def register(
        self,
        session_id: str,
        person: PersonRecord | str,
        *,
        answers: Mapping[str, Any] | None = None,
        created_at: int | None = None,
        **details: Any,
    ) -> RegistrationRecord:
        """Register a person (or an email, creating the person) on a session.

        ``details`` sets any :class:`RegistrationRecord` attribute (``utm_source=…``,
        ``attended=True``…). Raises :class:`RegistrationConflictError` when already registered.
        """
        with self.lock:
            session = self.sessions[session_id]
            if isinstance(person, str):
                person = self.find_person(person) or self.add_person(person)
            existing = session.registrations.get(person.id)
            if existing is not None:
                raise RegistrationConflictError(existing)
            stamp = self.clock if created_at is None else created_at
            registration = RegistrationRecord(
                person=person,
                session_id=session_id,
                event_id=session.event_id,
                created_at=stamp,
                updated_at=stamp,
                answers=dict(answers or {}),
                **details,
            )
            session.registrations[person.id] = registration
            self._touch_for_registration(session, stamp)
            return registration

    # -- changing -------------------------------------------------------------------------

    def update_person(self, person_id: str, **changes: Any) -> PersonRecord:
        """Change a person's attributes (``first_name``, ``email``…); stamps the person."""
        with self.lock:
            person = self.people[person_id]
            if "email" in changes:
                if person.email is not None:
                    self._people_by_email.pop(person.email.strip().lower(), None)
                if changes["email"] is not None:
                    self._people_by_email[changes["email"].strip().lower()] = person
            for name, value in changes.items():
                if name in ("id", "created_at", "updated_at") or not hasattr(person, name):
                    raise AttributeError(f"PersonRecord has no settable attribute {name!r}")
                setattr(person, name, value)
            person.updated_at = self.clock
            return person

    def update_registration(
        self, session_id: str, person_id: str, **changes: Any
    ) -> RegistrationRecord:
        """Change a registration (attendance, counts, answers, UTM…) and stamp it.

        With no changes it only stamps: "attendance changed" as far as ``updated_since`` sees.
        """
        with self.lock:
            registration = self.registration(session_id, person_id)
            for name, value in changes.items():
                if name in ("person", "session_id", "event_id", "created_at", "updated_at"):
                    raise AttributeError(f"{name!r} of a registration cannot change")
                if not hasattr(registration, name):
                    raise AttributeError(f"RegistrationRecord has no attribute {name!r}")
                setattr(registration, name, value)
            registration.updated_at = self.clock
            self._touch_for_registration(self.sessions[session_id], self.clock)
            return registration

    def set_attendance(
        self,
        session_id: str,
        person_id: str,
        *,
        attended: bool = True,
        attendance_rate: float | None = None,
        attendance_duration: float | None = None,
        **counts: int,
    ) -> RegistrationRecord:
        """Record that a person attended (with rate %, duration s) or not; stamps it.

        ``counts`` sets ``messages_count``, ``questions_count``, ``votes_count``,
        ``up_votes_count``. An absent person gets rate and duration ``None``.
        """
        session = self.sessions[session_id]
        if attended and attendance_rate is None:
            attendance_rate = 100
        if attended and attendance_duration is None:
            attendance_duration = ((session.duration or 3600) * (attendance_rate or 0)) // 100
        return self.update_registration(
            session_id,
            person_id,
            attended=attended,
            attendance_rate=attendance_rate if attended else None,
            attendance_duration=attendance_duration if attended else None,
            **counts,
        )

    def mark_replay_viewed(
        self, session_id: str, person_id: str, *, watched_at: int | None = None
    ) -> RegistrationRecord:
        """Record that a person watched the session's replay (now, by default)."""
        stamp = self.clock if watched_at is None else watched_at
        return self.update_registration(session_id, person_id, replay_watched_at=stamp)

    def end_session(
        self, session_id: str, *, started_at: int | None = None, duration: int = 3600
    ) -> SessionRecord:
        """Mark a session as run: it started ``duration`` seconds before the clock, by default."""
        with self.lock:
            session = self.sessions[session_id]
            session.started_at = self.clock - duration if started_at is None else started_at
            session.ended_at = session.started_at + duration
            session.duration = duration
            session.status = "past"
            self._touch(session, self.clock)
            return session

    def cancel_session(self, session_id: str) -> SessionRecord:
        with self.lock:
            session = self.sessions[session_id]
            session.status = "canceled"
            session.canceled_at = self.clock
            self._touch(session, self.clock)
            return session

    def unregister(self, session_id: str, email: str) -> RegistrationRecord:
        """Remove a registration; ``KeyError`` when the email is not registered there."""
        with self.lock:
            session = self.sessions[session_id]
            person = self.find_person(email)
            if person is None or person.id not in session.registrations:
                raise KeyError(f"{email} is not registered on session {session_id}")
            registration = session.registrations.pop(person.id)
            self._touch_for_registration(session, self.clock)
            return registration

    def _touch_for_registration(self, session: SessionRecord, stamp: int) -> None:
        if self.registration_changes_stamp_sessions:
            self._touch(session, stamp)

    def _touch(self, session: SessionRecord, stamp: int) -> None:
        session.updated_at = max(session.updated_at, stamp)
        event = self.events[session.event_id]
        event.updated_at = max(event.updated_at, stamp)
