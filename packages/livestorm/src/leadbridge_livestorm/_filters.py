"""Segment filters over the contacts' Livestorm registrations (``livestorm_registrations``).

Event filters (``livestorm.registered``, ``attended``, ``absent``, ``watched_replay``) take
event ids: ``=``/``in`` — for this event / any of these events; ``!=``/``!in`` — for none of
them (contacts never registered included); ``!empty`` — for any event; ``empty`` — for none.
Number filters compare an aggregate over all the contact's registrations (contacts without
any compare as 0 for counts, as no value for rate and duration): the highest attendance
rate (percent), the longest attendance (minutes), and the total questions, messages, votes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, select, true
from typing_extensions import override

from leadbridge.segments import (
    OPERATORS,
    BaseSegmentFilter,
    FilterContext,
    FilterType,
    column_clause,
)

from ._tables import RegistrationRow

_EVENT_OPERATORS = ("=", "!=", "in", "!in", "empty", "!empty")
_NEGATIVE = frozenset({"!=", "!in", "empty"})


class _EventFilter(BaseSegmentFilter):
    """Registered for events (whose registration meets :meth:`condition`)."""

    type = FilterType.TEXT
    operators = _EVENT_OPERATORS
    group = "livestorm"

    def condition(self) -> ColumnElement[bool]:
        return true()

    @override
    def clause(
        self, contact_id: ColumnElement[int], operator: str, value: Any, context: FilterContext
    ) -> ColumnElement[bool]:
        where = [RegistrationRow.contact_id == contact_id, self.condition()]
        if operator in ("=", "!="):
            where.append(RegistrationRow.event_id == value)
        elif operator in ("in", "!in"):
            where.append(RegistrationRow.event_id.in_(list(value)))
        found = exists().where(and_(*where))
        return ~found if operator in _NEGATIVE else found


class RegisteredFilter(_EventFilter):
    key = "livestorm.registered"
    label = "Registered for a Livestorm event"


class AttendedFilter(_EventFilter):
    key = "livestorm.attended"
    label = "Attended a Livestorm event"

    @override
    def condition(self) -> ColumnElement[bool]:
        return RegistrationRow.attended.is_(True)


class AbsentFilter(_EventFilter):
    """Registered for the event but attended none of its sessions."""

    key = "livestorm.absent"
    label = "Registered for a Livestorm event but did not attend"

    @override
    def clause(
        self, contact_id: ColumnElement[int], operator: str, value: Any, context: FilterContext
    ) -> ColumnElement[bool]:
        where = [RegistrationRow.contact_id == contact_id]
        if operator in ("=", "!="):
            where.append(RegistrationRow.event_id == value)
        elif operator in ("in", "!in"):
            where.append(RegistrationRow.event_id.in_(list(value)))
        # An event of the contact none of whose registrations attended.
        found = (
            select(RegistrationRow.event_id)
            .where(*where)
            .group_by(RegistrationRow.event_id)
            .having(func.max(case((RegistrationRow.attended.is_(True), 1), else_=0)) == 0)
            .exists()
        )
        return ~found if operator in _NEGATIVE else found


class WatchedReplayFilter(_EventFilter):
    key = "livestorm.watched_replay"
    label = "Watched the replay of a Livestorm event"

    @override
    def condition(self) -> ColumnElement[bool]:
        return RegistrationRow.has_viewed_replay.is_(True)


class _NumberFilter(BaseSegmentFilter):
    type = FilterType.NUMBER
    operators = OPERATORS[FilterType.NUMBER]
    group = "livestorm"
    #: Counts read 0 for contacts without registrations; rate and duration read no value.
    count = True

    def aggregate(self) -> ColumnElement[Any]:
        raise NotImplementedError

    @override
    def clause(
        self, contact_id: ColumnElement[int], operator: str, value: Any, context: FilterContext
    ) -> ColumnElement[bool]:
        value_of: ColumnElement[Any] = (
            select(self.aggregate())
            .where(RegistrationRow.contact_id == contact_id)
            .correlate_except(RegistrationRow)
            .scalar_subquery()
        )
        if self.count:
            value_of = func.coalesce(value_of, 0)
        return column_clause(
            value_of, FilterType.NUMBER, operator, value, context, nullable=not self.count
        )


class AttendanceRateFilter(_NumberFilter):
    key = "livestorm.attendance_rate"
    label = "Livestorm attendance rate (best, %)"
    count = False

    @override
    def aggregate(self) -> ColumnElement[Any]:
        return func.max(RegistrationRow.attendance_rate)


class AttendanceDurationFilter(_NumberFilter):
    key = "livestorm.attendance_duration"
    label = "Livestorm attendance (longest, minutes)"
    count = False

    @override
    def aggregate(self) -> ColumnElement[Any]:
        return func.max(RegistrationRow.attendance_duration) / 60


class QuestionsFilter(_NumberFilter):
    key = "livestorm.questions"
    label = "Questions asked in Livestorm events"

    @override
    def aggregate(self) -> ColumnElement[Any]:
        return func.sum(RegistrationRow.questions_count)


class MessagesFilter(_NumberFilter):
    key = "livestorm.messages"
    label = "Chat messages sent in Livestorm events"

    @override
    def aggregate(self) -> ColumnElement[Any]:
        return func.sum(RegistrationRow.messages_count)


class VotesFilter(_NumberFilter):
    key = "livestorm.votes"
    label = "Poll votes in Livestorm events"

    @override
    def aggregate(self) -> ColumnElement[Any]:
        return func.sum(RegistrationRow.votes_count)


def segment_filters() -> list[BaseSegmentFilter]:
    """The Livestorm segment filters, as the container provides them."""
    return [
        RegisteredFilter(),
        AttendedFilter(),
        AbsentFilter(),
        WatchedReplayFilter(),
        AttendanceRateFilter(),
        AttendanceDurationFilter(),
        QuestionsFilter(),
        MessagesFilter(),
        VotesFilter(),
    ]
