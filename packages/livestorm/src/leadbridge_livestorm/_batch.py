"""Writes a pulled page's events, sessions and registrations, and fires point actions."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leadbridge.points import PointsService
from leadbridge.sync import BatchSynced

from ._errors import PersonSkippedError
from ._exchange import INTEGRATION, PulledPerson
from ._mapping import registration_values
from ._models import Event, Session
from ._store import LivestormStore, RegistrationChange


async def award_changes(
    points: PointsService, session: AsyncSession, changes: Iterable[RegistrationChange]
) -> None:
    """Fire the Livestorm point action types for what ``changes`` show.

    A change is reported once (a replayed page finds its row unchanged), so each fact
    awards once per contact and session; non-repeatable actions award once per contact.
    """
    bulk: dict[tuple[str, str], set[int]] = defaultdict(set)
    for change in changes:
        if change.contact_id is None:
            continue
        if change.newly_registered:
            bulk["livestorm.registered", change.event_id].add(change.contact_id)
        if change.new_questions:
            bulk["livestorm.asked_question", change.event_id].add(change.contact_id)
        if change.new_votes:
            bulk["livestorm.voted", change.event_id].add(change.contact_id)
        if change.newly_watched_replay:
            bulk["livestorm.watched_replay", change.event_id].add(change.contact_id)
        if change.newly_attended:
            details = {
                "event_id": change.event_id,
                "session_id": change.session_id,
                "attendance_rate": change.attendance_rate,
                "attendance_duration": change.attendance_duration,
            }
            await points.trigger("livestorm.attended", change.contact_id, details, session=session)
    for (key, event_id), contact_ids in bulk.items():
        await points.award_bulk(key, sorted(contact_ids), {"event_id": event_id}, session=session)


class LivestormBatchWriter:
    """The ``BatchSynced`` subscriber of the Livestorm pull.

    ``points`` is called for the :class:`PointsService` when a page needs it (lazily: the
    writer is subscribed while core builds that service).
    """

    def __init__(self, *, store: LivestormStore, points: Callable[[], PointsService]) -> None:
        self._store = store
        self._points = points

    async def __call__(self, event: BatchSynced) -> None:
        if event.integration != INTEGRATION or event.session is None or not event.pairs:
            return
        db = event.session
        events: dict[str, Event] = {}
        sessions: dict[str, Session] = {}
        rows: list[dict[str, Any]] = []
        for obj, contact_id in event.pairs:
            extra: Any = obj.extra
            for pulled in extra if isinstance(extra, tuple) else ():
                if not isinstance(pulled, PulledPerson):
                    continue
                events[pulled.event.id] = pulled.event
                sessions[pulled.session.id] = pulled.session
                try:
                    rows.append(
                        registration_values(
                            pulled.person,
                            contact_id=contact_id,
                            session_id=pulled.session.id,
                            event_id=pulled.session.event_id,
                        )
                    )
                except PersonSkippedError:
                    continue  # no registration to store; the contact is written all the same
        if not sessions:
            return
        await self._store.upsert_events(db, events.values())
        await self._store.upsert_sessions(db, sessions.values())
        # Every session's registrations of the page in one read and one upsert.
        result = await self._store.write_registrations(db, rows)
        if result.changes:
            await award_changes(self._points(), db, result.changes)


class AwardChanges:
    """A :class:`WebhookReceiver` ``on_changes`` hook: awards points for webhook changes."""

    def __init__(self, points: Callable[[], PointsService]) -> None:
        self._points = points

    async def __call__(self, changes: Sequence[RegistrationChange], session: AsyncSession) -> None:
        await award_changes(self._points(), session, changes)
