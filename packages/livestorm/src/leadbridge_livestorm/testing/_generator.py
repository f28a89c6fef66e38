"""A deterministic generator of Livestorm workspaces, from a handful of people to tens of
thousands: same arguments, same data (ids included)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from ._store import (
    DAY,
    DEFAULT_NOW,
    DEPARTMENTS,
    INTERESTS,
    EventRecord,
    PersonRecord,
    RegistrationRecord,
    SessionRecord,
    Workspace,
)

FIRST_NAMES = (
    "Jane", "John", "Amina", "Lucas", "Chloé", "Noah", "Mei", "Omar", "Sofia", "Hugo", "Léa",
    "Ethan", "Zoé", "Ivan", "Priya", "Mateo", "Emma", "Yuki", "Louis", "Nora", "Felix", "Inès",
    "Arjun", "Clara", "Tom", "Sara", "Diego", "Alice", "Ben", "Hana",
)  # fmt: skip
LAST_NAMES = (
    "Adams", "Martin", "Bernard", "Dubois", "Smith", "Garcia", "Müller", "Rossi", "Nguyen",
    "Kowalski", "Silva", "Haddad", "Tanaka", "Petit", "Moreau", "Fischer", "Lopez", "Brown",
    "Ivanova", "Khan", "Laurent", "Schmidt", "Costa", "Dupont", "Wilson", "Roux",
)  # fmt: skip
DOMAINS = ("example.com", "example.org", "acme.test", "globex.test", "initech.test", "hooli.test")
COMPANIES = (
    "Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark Industries", "Wayne Enterprises",
    "Soylent", "Tyrell", "Cyberdyne", "Wonka", "Aperture",
)  # fmt: skip
JOB_TITLES = (
    "Marketing Manager", "Head of Growth", "Sales Director", "Software Engineer", "CTO",
    "Product Manager", "HR Business Partner", "Data Analyst", "Founder", "Account Executive",
)  # fmt: skip
TOPICS = (
    "Product Tour", "Quarterly Roadmap", "Onboarding Masterclass", "Growth Marketing 101",
    "Customer Success Stories", "API Deep Dive", "Pricing Q&A", "Security Webinar",
)  # fmt: skip
UTM_SOURCES = (None, None, "newsletter", "linkedin", "google", "partner")
BROWSERS = ("Chrome", "Firefox", "Safari", "Edge")
SYSTEMS = ("Windows", "Mac OS", "Linux", "iOS", "Android")
CITIES = (("Paris", "FR"), ("Lyon", "FR"), ("Berlin", "DE"), ("London", "GB"), ("Madrid", "ES"))


@dataclass(frozen=True, slots=True)
class _Mix:
    attendance: float
    interaction: float
    replay: float


def generate_workspace(
    seed: int = 0,
    *,
    events: int = 3,
    sessions_per_event: int = 2,
    people: int = 100,
    team_members: int = 2,
    now: int = DEFAULT_NOW,
    past_ratio: float = 0.7,
    multi_session_ratio: float = 0.15,
    no_email_ratio: float = 0.02,
    attendance_ratio: float = 0.6,
    replay_ratio: float = 0.3,
    interaction_ratio: float = 0.4,
    organization_name: str = "Acme Webinars",
) -> Workspace:
    """Build a workspace of ``events * sessions_per_event`` sessions and ``people`` people.

    - Sessions: ``past_ratio`` of them ran (status ``past``, start/end/duration set), the rest
      are ``upcoming``; every event's form has ``company``, ``job_title``, ``phone``, a select
      ``department`` and a multi-select ``interests``.
    - People: names and answers drawn from small lists; exactly
      ``round(people * no_email_ratio)`` have no email and
      ``round(people * multi_session_ratio)`` are registered on 2 or 3 sessions (the same email on
      several sessions); everyone else on one.
    - Attendance, on past sessions: ``attendance_ratio`` attended (rate 10 to 100 %, duration to
      match), some of them with messages, questions and votes (``interaction_ratio``); part of
      the rest watched the replay (``replay_ratio``).
    - ``team_members`` people with ``role="team_member"`` host every session.

    Times lie around ``now`` (the workspace clock). 20,000 people over 200 sessions take about
    a second.
    """
    if events < 0 or sessions_per_event < 0 or people < 0 or team_members < 0:
        raise ValueError("counts must be zero or more")
    workspace = Workspace(seed=seed, now=now, organization_name=organization_name)
    rng = random.Random(f"data:{seed}")
    mix = _Mix(attendance_ratio, interaction_ratio, replay_ratio)
    org_domain = f"{workspace.organization.slug}.test"

    team = [
        workspace.add_person(
            f"{FIRST_NAMES[i % len(FIRST_NAMES)].lower()}.host{i + 1}@{org_domain}",
            first_name=FIRST_NAMES[i % len(FIRST_NAMES)],
            last_name="Host",
            role="team_member",
            created_at=now - 400 * DAY,
        )
        for i in range(team_members)
    ]

    total_sessions = events * sessions_per_event
    past = set(rng.sample(range(total_sessions), round(total_sessions * past_ratio)))
    sessions: list[SessionRecord] = []
    for e in range(events):
        starts: list[tuple[int, bool]] = []  # (estimated start, ran)
        for s in range(sessions_per_event):
            ran = e * sessions_per_event + s in past
            day = rng.randint(1, 180) if ran else -rng.randint(1, 90)
            starts.append(((now - day * DAY) // 3600 * 3600 + 14 * 3600, ran))
        created = (min(starts)[0] if starts else now) - rng.randint(14, 60) * DAY
        event = workspace.add_event(
            f"{TOPICS[e % len(TOPICS)]} #{e + 1}",
            description=f"Session {e + 1} of our webinar series.",
            estimated_duration=rng.choice((30, 45, 60, 90)),
            owner=team[e % len(team)] if team else None,
            created_at=created,
        )
        event.published_at = created + 3600
        for start, ran in sorted(starts):
            sessions.append(_session(workspace, rng, event, start, ran=ran))

    no_email = set(rng.sample(range(people), round(people * no_email_ratio)))
    several = (
        set(rng.sample(range(people), round(people * multi_session_ratio)))
        if total_sessions > 1
        else set()
    )
    for i in range(people):
        picked = [rng.randrange(total_sessions)] if total_sessions else []
        if i in several:
            drawn = rng.sample(range(total_sessions), min(3, total_sessions))
            others = [k for k in drawn if k != picked[0]]
            picked += others[: rng.randint(1, 2)]
        chosen = [sessions[k] for k in picked]
        _person(workspace, rng, i, chosen, mix, email=i not in no_email)

    for session in sessions:
        for member in team:
            _host(workspace, session, member)
    for session in sessions:
        stamps = [reg.updated_at for reg in session.registrations.values()]
        session.updated_at = max([session.updated_at, session.ended_at, *stamps])
    for event in workspace.events.values():
        event.updated_at = max(
            [event.updated_at, *(workspace.sessions[sid].updated_at for sid in event.session_ids)]
        )
    return workspace


def _session(
    workspace: Workspace, rng: random.Random, event: EventRecord, start: int, *, ran: bool
) -> SessionRecord:
    session = workspace.add_session(
        event.id,
        estimated_started_at=start,
        created_at=event.created_at + rng.randint(0, 3 * DAY),
    )
    if ran:
        session.status = "past"
        session.started_at = start + rng.randint(0, 600)
        session.duration = max(600, event.estimated_duration * 60 + rng.randint(-600, 900))
        session.ended_at = session.started_at + session.duration
    return session


def _person(
    workspace: Workspace,
    rng: random.Random,
    index: int,
    sessions: list[SessionRecord],
    mix: _Mix,
    *,
    email: bool,
) -> None:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    address = f"{first}.{last}.{index}@{rng.choice(DOMAINS)}"
    # Most addresses lower-case; a few keep their capitals, as people type them.
    address = address if rng.random() < 0.05 else address.lower()
    answers = {
        "company": rng.choice(COMPANIES) if rng.random() < 0.85 else None,
        "job_title": rng.choice(JOB_TITLES) if rng.random() < 0.7 else None,
        "phone": f"+33 6 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} "
        f"{rng.randint(10, 99)}"
        if rng.random() < 0.5
        else None,
        "department": rng.choice(DEPARTMENTS) if rng.random() < 0.8 else None,
        "interests": [item for item in INTERESTS if rng.random() < 0.3],
    }
    registered = [
        session.created_at + rng.randint(0, max(1, _open_until(session, workspace.clock)))
        for session in sessions
    ]
    since = min(registered)
    person = workspace.add_person(
        address if email else None, first_name=first, last_name=last, created_at=since
    )
    source = rng.choice(UTM_SOURCES)
    city, country = rng.choice(CITIES)
    for session, created in zip(sessions, registered, strict=True):
        registration = RegistrationRecord(
            person=person,
            session_id=session.id,
            event_id=session.event_id,
            created_at=created,
            updated_at=created,
            answers=answers,
            utm_source=source,
            utm_medium="email" if source == "newsletter" else ("social" if source else None),
            utm_campaign="autumn" if source else None,
            referrer=f"https://{rng.choice(DOMAINS)}/" if rng.random() < 0.2 else None,
            browser_name=rng.choice(BROWSERS),
            os_name=rng.choice(SYSTEMS),
            ip_city=city,
            ip_country_code=country,
            registration_type="API" if rng.random() < 0.1 else "form",
        )
        if session.ended_at:
            _attend(rng, mix, session, registration, workspace.clock)
        session.registrations[person.id] = registration


def _open_until(session: SessionRecord, now: int) -> int:
    """Seconds during which people could register: from creation to start (or now)."""
    return min(session.estimated_started_at, now) - session.created_at


def _attend(
    rng: random.Random,
    mix: _Mix,
    session: SessionRecord,
    registration: RegistrationRecord,
    now: int,
) -> None:
    registration.updated_at = max(registration.created_at, session.ended_at + rng.randint(60, 600))
    if rng.random() < mix.attendance:
        registration.attended = True
        rate = rng.randint(10, 100)
        registration.attendance_rate = rate
        registration.attendance_duration = (session.duration or 0) * rate // 100
        if rng.random() < mix.interaction:
            registration.messages_count = rng.randint(1, 8)
            registration.questions_count = rng.randint(0, 3)
            registration.votes_count = rng.randint(0, 2)
            registration.up_votes_count = rng.randint(0, 4)
    # Absentees catch up on the replay; a few attendees watch it again.
    if rng.random() < (mix.replay / 4 if registration.attended else mix.replay):
        watched = min(now, session.ended_at + rng.randint(3600, 7 * DAY))
        registration.replay_watched_at = watched
        registration.updated_at = max(registration.updated_at, watched)


def _host(workspace: Workspace, session: SessionRecord, member: PersonRecord) -> None:
    event = workspace.events[session.event_id]
    registration = RegistrationRecord(
        person=member,
        session_id=session.id,
        event_id=session.event_id,
        created_at=session.created_at,
        updated_at=session.ended_at or session.created_at,
        registration_type="team_member",
        session_role="host" if event.owner_id == member.id else "team_member",
    )
    if session.ended_at:
        registration.attended = True
        registration.attendance_rate = 100
        registration.attendance_duration = session.duration
    session.registrations[member.id] = registration
