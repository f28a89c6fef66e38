"""``LivestormStore``: set-based upserts of events, sessions and registrations.

Every method writes through the ``AsyncSession`` it is given, so its rows commit or roll back
with the caller's transaction (a sync page, a webhook delivery). Rows are compared with what is
stored first: unchanged rows are not written at all, and what did change comes back as
:class:`RegistrationChange` facts (newly registered, newly attended, new questions…) for point
actions to fire on, once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from leadbridge.db import BulkInsert, chunked, dialect_insert, key_set, utcnow

from ._errors import PersonSkippedError
from ._mapping import event_values, registration_values, session_values
from ._models import Event, Session
from ._records import PersonLike
from ._tables import EventRow, RegistrationRow, SessionRow

EVENTS = cast(Table, EventRow.__table__)
SESSIONS = cast(Table, SessionRow.__table__)
REGISTRATIONS = cast(Table, RegistrationRow.__table__)

EVENT_COLUMNS = (
    "title",
    "slug",
    "status",
    "scheduling_status",
    "registration_link",
    "estimated_duration",
    "sessions_count",
    "fields",
    "published_at",
    "created_at",
    "updated_at",
)
SESSION_COLUMNS = (
    "event_id",
    "name",
    "status",
    "timezone",
    "room_link",
    "attendees_count",
    "registrants_count",
    "duration",
    "estimated_started_at",
    "started_at",
    "ended_at",
    "canceled_at",
    "created_at",
    "updated_at",
)
#: The registration columns compared and written (``contact_id`` never overwritten by NULL).
REGISTRATION_COLUMNS = (
    "event_id",
    "contact_id",
    "email",
    "role",
    "registered_at",
    "attended",
    "attendance_rate",
    "attendance_duration",
    "has_viewed_replay",
    "replay_watched_at",
    "messages_count",
    "questions_count",
    "votes_count",
    "up_votes_count",
    "registration_type",
    "referrer",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "answers",
    "updated_at",
)
_REGISTRATION_KEY = ("session_id", "person_id")
#: What linking a registration known by ids updates on a stored row.
_LINK_COLUMNS = ("contact_id", "email")


@dataclass(frozen=True, slots=True)
class RegistrationChange:
    """A registration row that was created or whose values changed.

    ``before`` is ``None`` for a new row; ``after`` holds the row as written. The properties
    are the facts point actions award on.
    """

    session_id: str
    event_id: str
    person_id: str
    contact_id: int | None
    email: str | None
    created: bool
    before: Mapping[str, Any] | None
    after: Mapping[str, Any]

    @property
    def changed(self) -> frozenset[str]:
        """The columns that differ from the stored row (a new row's: those it sets)."""
        # Computed when asked: a first pull creates every row, and few readers ask.
        after, before = self.after, self.before
        if before is None:
            return frozenset(c for c in REGISTRATION_COLUMNS if after.get(c) is not None)
        return frozenset(c for c in REGISTRATION_COLUMNS if after.get(c) != before.get(c))

    def gained(self, column: str) -> int:
        """How much a counter (``questions_count``…) went up; never negative."""
        old = (self.before or {}).get(column) or 0
        return max(0, int(self.after.get(column) or 0) - int(old))

    def _became_true(self, column: str) -> bool:
        return bool(self.after.get(column)) and not (self.before or {}).get(column)

    @property
    def newly_registered(self) -> bool:
        return self.created

    @property
    def newly_attended(self) -> bool:
        return self._became_true("attended")

    @property
    def newly_watched_replay(self) -> bool:
        return self._became_true("has_viewed_replay")

    @property
    def new_questions(self) -> int:
        return self.gained("questions_count")

    @property
    def new_messages(self) -> int:
        return self.gained("messages_count")

    @property
    def new_votes(self) -> int:
        return self.gained("votes_count")

    @property
    def new_up_votes(self) -> int:
        return self.gained("up_votes_count")

    @property
    def attendance_rate(self) -> int | None:
        return cast("int | None", self.after.get("attendance_rate"))

    @property
    def attendance_duration(self) -> int | None:
        return cast("int | None", self.after.get("attendance_duration"))


#: Called with the registration changes a write made, inside its transaction.
ChangesHook = Callable[[Sequence[RegistrationChange], AsyncSession], Awaitable[None]]


@dataclass
class UpsertResult:
    """Ids of the rows inserted and updated; how many were already up to date."""

    inserted: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def written(self) -> int:
        return len(self.inserted) + len(self.updated)


@dataclass
class RegistrationResult:
    """What an upsert of registrations did.

    ``changes`` lists the new and changed rows; ``unchanged`` rows were not written; ``stale``
    ones were older than what is stored (a late webhook) and were ignored; ``skipped`` people
    carried no registration.
    """

    changes: list[RegistrationChange] = field(default_factory=list)
    unchanged: int = 0
    stale: int = 0
    skipped: list[PersonSkippedError] = field(default_factory=list)

    @property
    def inserted(self) -> int:
        return sum(1 for change in self.changes if change.created)

    @property
    def updated(self) -> int:
        return sum(1 for change in self.changes if not change.created)

    @property
    def written(self) -> int:
        return len(self.changes)


@dataclass(frozen=True, slots=True)
class RegistrationLink:
    """A registration known only by its ids (a push result): the row is created if missing,
    and ``contact_id`` linked; attendance is left to the next pull."""

    session_id: str
    event_id: str
    person_id: str
    contact_id: int | None = None
    email: str | None = None


class LivestormStore:
    """Writes Livestorm events, sessions and registrations into the plugin's tables.

    Stateless apart from its ``clock``: share one instance. Every method takes the caller's
    ``AsyncSession`` and never commits.
    """

    def __init__(self, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._clock = clock

    # -- events and sessions ---------------------------------------------------------------

    async def upsert_events(self, db: AsyncSession, events: Iterable[Event]) -> UpsertResult:
        rows = {event.id: event_values(event) for event in events}
        return await self._upsert_by_id(db, _EVENT_UPSERT, rows, EVENT_COLUMNS)

    async def upsert_sessions(self, db: AsyncSession, sessions: Iterable[Session]) -> UpsertResult:
        """Upsert sessions; their events must be stored (or stubbed with
        :meth:`ensure_session`) first."""
        rows = {session.id: session_values(session) for session in sessions}
        return await self._upsert_by_id(db, _SESSION_UPSERT, rows, SESSION_COLUMNS)

    async def _upsert_by_id(
        self,
        db: AsyncSession,
        upsert: BulkInsert,
        rows: Mapping[str, dict[str, Any]],
        columns: Sequence[str],
    ) -> UpsertResult:
        result = UpsertResult()
        if not rows:
            return result
        table = upsert.table
        stored: dict[str, Mapping[str, Any]] = {}
        for chunk in chunked(list(rows)):
            found = await db.execute(select(table).where(table.c.id.in_(key_set(db, chunk))))
            stored.update({row["id"]: dict(row) for row in found.mappings()})
        now = self._clock()
        writes = []
        for ident, values in rows.items():
            before = stored.get(ident)
            if before is None:
                result.inserted.append(ident)
            elif any(before[c] != values[c] for c in columns):
                result.updated.append(ident)
            else:
                result.unchanged += 1
                continue
            writes.append((ident, *(values[c] for c in columns), now))
        await upsert.execute(db, writes)
        return result

    async def ensure_session(
        self, db: AsyncSession, session_id: str, event_id: str, *, request_pull: bool = True
    ) -> bool:
        """Make sure a session (and its event) has a row, so registrations can point at it.

        A session heard of only through a webhook gets a stub row, flagged for a pull (unless
        ``request_pull=False``); an existing row is left alone. Returns whether a stub was
        created.
        """
        now = self._clock()
        events = dialect_insert(db, EVENTS).on_conflict_do_nothing(index_elements=["id"])
        await db.execute(
            events,
            [{"id": event_id, "title": "", "sessions_count": 0, "fields": [], "synced_at": now}],
        )
        stub = {
            "id": session_id,
            "event_id": event_id,
            "attendees_count": 0,
            "registrants_count": 0,
            "synced_at": now,
            "pull_requested_at": now if request_pull else None,
        }
        sessions = dialect_insert(db, SESSIONS).on_conflict_do_nothing(index_elements=["id"])
        result = await db.execute(sessions.values(**stub))
        return bool(cast(Any, result).rowcount)

    async def request_pull(
        self, db: AsyncSession, session_id: str, *, at: datetime | None = None
    ) -> bool:
        """Flag a stored session for an incremental pull; ``False`` if it is not stored."""
        result = await db.execute(
            update(SESSIONS)
            .where(SESSIONS.c.id == session_id)
            .values(pull_requested_at=at or self._clock())
        )
        return bool(cast(Any, result).rowcount)

    async def pull_requests(self, db: AsyncSession) -> list[str]:
        """Ids of the sessions flagged for a pull, oldest request first."""
        found = await db.execute(
            select(SESSIONS.c.id)
            .where(SESSIONS.c.pull_requested_at.is_not(None))
            .order_by(SESSIONS.c.pull_requested_at, SESSIONS.c.id)
        )
        return list(found.scalars())

    async def clear_pull_requests(
        self, db: AsyncSession, session_ids: Iterable[str], *, requested_before: datetime
    ) -> None:
        """Clear the flags a pull has served; requests that came in during it stay."""
        ids = list(session_ids)
        for chunk in chunked(ids):
            await db.execute(
                update(SESSIONS)
                .where(SESSIONS.c.id.in_(chunk))
                .where(SESSIONS.c.pull_requested_at <= requested_before)
                .values(pull_requested_at=None)
            )

    # -- registrations ---------------------------------------------------------------------

    async def upsert_registrations(
        self,
        db: AsyncSession,
        people: Iterable[PersonLike],
        *,
        contact_ids: Mapping[str, int] | None = None,
        session_id: str | None = None,
        event_id: str | None = None,
    ) -> RegistrationResult:
        """Upsert each person's registration (from ``/sessions/{id}/people``).

        ``contact_ids`` links rows to contacts by Livestorm person id (a row keeps its link
        when none is given). ``session_id``/``event_id`` fill in what a person's
        ``registrant_detail`` leaves out. People without a registration are listed in
        ``skipped``.
        """
        links = contact_ids or {}
        rows: list[dict[str, Any]] = []
        skipped: list[PersonSkippedError] = []
        for person in people:
            try:
                rows.append(
                    registration_values(
                        person,
                        contact_id=links.get(person.id),
                        session_id=session_id,
                        event_id=event_id,
                    )
                )
            except PersonSkippedError as exc:
                skipped.append(exc)
        result = await self.write_registrations(db, rows)
        result.skipped.extend(skipped)
        return result

    async def write_registrations(
        self, db: AsyncSession, rows: Sequence[Mapping[str, Any]]
    ) -> RegistrationResult:
        """Upsert registration rows already mapped (:func:`registration_values`).

        Rows older (``updated_at``) than the stored one are ``stale`` and ignored, so a late
        webhook never undoes a newer pull.
        """
        return await self._write_registrations(db, rows, REGISTRATION_COLUMNS)

    async def link_registrations(
        self, db: AsyncSession, links: Iterable[RegistrationLink]
    ) -> RegistrationResult:
        """Create the missing rows of registrations known by ids; link contacts to them."""
        rows: list[dict[str, Any]] = [
            {
                "session_id": link.session_id,
                "event_id": link.event_id,
                "person_id": link.person_id,
                "contact_id": link.contact_id,
                "email": link.email,
                "role": "participant",
                "attended": False,
                "has_viewed_replay": False,
                "messages_count": 0,
                "questions_count": 0,
                "votes_count": 0,
                "up_votes_count": 0,
                "answers": {},
            }
            for link in links
        ]
        return await self._write_registrations(db, rows, _LINK_COLUMNS)

    async def _write_registrations(
        self,
        db: AsyncSession,
        rows: Sequence[Mapping[str, Any]],
        columns: tuple[str, ...],
    ) -> RegistrationResult:
        result = RegistrationResult()
        # One row per key: the same registration twice in a batch keeps the last.
        wanted = {(row["session_id"], row["person_id"]): row for row in rows}
        if not wanted:
            return result
        stored = await self._stored_registrations(db, list(wanted))
        now = self._clock()
        # Only a full write carries ``updated_at``: a link never holds back a newer row.
        guard_stale = columns == REGISTRATION_COLUMNS
        writes: list[tuple[Any, ...]] = []
        inserts: list[tuple[Any, ...]] = []
        for key, row in wanted.items():
            before = stored.get(key)
            values = dict(row)
            if before is None:
                after: Mapping[str, Any] = values  # the row as written (``synced_at`` too)
            else:
                # A missing link or email never erases a stored one.
                for keep in ("contact_id", "email"):
                    if values.get(keep) is None:
                        values[keep] = before[keep]
                if guard_stale and _older(values.get("updated_at"), before["updated_at"]):
                    result.stale += 1
                    continue
                # Compared as tuples first: most rows of a repeated pull are unchanged.
                new = tuple(values.get(c) for c in columns)
                old = tuple(before[c] for c in columns)
                if new == old:
                    result.unchanged += 1
                    continue
                after = {**before, **dict(zip(columns, new, strict=True))}
            values["synced_at"] = now
            (inserts if before is None else writes).append(
                tuple(map(values.get, _REGISTRATION_WRITE))
            )
            result.changes.append(
                RegistrationChange(
                    session_id=key[0],
                    event_id=after["event_id"],
                    person_id=key[1],
                    contact_id=after.get("contact_id"),
                    email=after.get("email"),
                    created=before is None,
                    before=before,
                    after=after,
                )
            )
        # Rows read as missing may go in without the upsert's conflict handling (a concurrent
        # writer's row then raises IntegrityError, which a sync page retries).
        await _UPSERTS[columns].execute(db, writes, new=inserts)
        return result

    async def _stored_registrations(
        self, db: AsyncSession, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], Mapping[str, Any]]:
        stored: dict[tuple[str, str], Mapping[str, Any]] = {}
        for chunk in chunked(keys):
            sessions = sorted({s for s, _ in chunk})
            persons = sorted({p for _, p in chunk})
            # A superset (every pair of these sessions and people), narrowed below: simpler
            # and as fast as a row-value IN for the one or few sessions of a page.
            found = await db.execute(
                select(REGISTRATIONS).where(
                    REGISTRATIONS.c.session_id.in_(key_set(db, sessions)),
                    REGISTRATIONS.c.person_id.in_(key_set(db, persons)),
                )
            )
            wanted = set(chunk)
            for row in found.mappings():
                key = (row["session_id"], row["person_id"])
                if key in wanted:
                    stored[key] = dict(row)
        return stored

    async def registered(
        self,
        db: AsyncSession,
        session_id: str,
        *,
        contact_ids: Iterable[int] = (),
        emails: Iterable[str] = (),
    ) -> tuple[set[int], set[str]]:
        """Which of these contacts (by id) and emails (lower-cased) are registered on the
        session as far as the stored rows know."""
        ids, keys = list(contact_ids), [email.strip().lower() for email in emails]
        found_ids: set[int] = set()
        found_emails: set[str] = set()
        for id_chunk in chunked(ids):
            rows = await db.execute(
                select(REGISTRATIONS.c.contact_id).where(
                    REGISTRATIONS.c.session_id == session_id,
                    REGISTRATIONS.c.contact_id.in_(id_chunk),
                )
            )
            found_ids.update(int(cid) for cid in rows.scalars())
        for email_chunk in chunked(keys):
            rows = await db.execute(
                select(func.lower(REGISTRATIONS.c.email)).where(
                    REGISTRATIONS.c.session_id == session_id,
                    func.lower(REGISTRATIONS.c.email).in_(email_chunk),
                )
            )
            found_emails.update(str(email) for email in rows.scalars())
        return found_ids, found_emails


def _older(new: datetime | None, stored: datetime | None) -> bool:
    return new is not None and stored is not None and new < stored


def _by_id(table: Table, columns: Sequence[str]) -> BulkInsert:
    """The upsert of events or sessions by id."""

    def on_conflict(insert: Any) -> Any:
        set_ = {c: insert.excluded[c] for c in (*columns, "synced_at")}
        return insert.on_conflict_do_update(index_elements=["id"], set_=set_)

    return BulkInsert(table, ("id", *columns, "synced_at"), on_conflict=on_conflict)


def _registrations(updated: Sequence[str], *, guard_stale: bool) -> BulkInsert:
    """The registrations' upsert: new rows whole, stored ones' ``updated`` columns; a missing
    link or email never erases a stored one."""

    def on_conflict(insert: Any) -> Any:
        table = REGISTRATIONS.c
        set_: dict[str, Any] = {c: insert.excluded[c] for c in (*updated, "synced_at")}
        for keep in ("contact_id", "email"):
            if keep in set_:
                set_[keep] = func.coalesce(insert.excluded[keep], table[keep])
        where = None
        if guard_stale:
            # The stale guard again in SQL, for a concurrent writer that got in between.
            where = or_(
                table.updated_at.is_(None),
                insert.excluded.updated_at.is_(None),
                table.updated_at <= insert.excluded.updated_at,
            )
        return insert.on_conflict_do_update(
            index_elements=list(_REGISTRATION_KEY), set_=set_, where=where
        )

    return BulkInsert(REGISTRATIONS, _REGISTRATION_WRITE, on_conflict=on_conflict)


#: Every column a registration write inserts, in the order its rows hold them.
_REGISTRATION_WRITE = (*_REGISTRATION_KEY, *REGISTRATION_COLUMNS, "synced_at")
_EVENT_UPSERT = _by_id(EVENTS, EVENT_COLUMNS)
_SESSION_UPSERT = _by_id(SESSIONS, SESSION_COLUMNS)
_UPSERTS = {
    REGISTRATION_COLUMNS: _registrations(REGISTRATION_COLUMNS, guard_stale=True),
    _LINK_COLUMNS: _registrations(_LINK_COLUMNS, guard_stale=False),
}
