"""``Contact.livestormRegistrations``: each contact's registrations, for API clients."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from typing_extensions import override

from leadbridge.integrations import BaseContactData, ColumnType, DataColumn

from ._tables import EventRow, RegistrationRow, SessionRow

_TEXT, _INT, _FLOAT, _BOOL, _TIME = (
    ColumnType.TEXT,
    ColumnType.INTEGER,
    ColumnType.FLOAT,
    ColumnType.BOOLEAN,
    ColumnType.DATETIME,
)


class LivestormRegistrations(BaseContactData):
    """The contact's session registrations with attendance, newest session first."""

    name = "livestormRegistrations"
    type_name = "LivestormRegistration"
    description = (
        "The contact's Livestorm session registrations with attendance, the session "
        "starting last first."
    )
    integration = "livestorm"
    columns = (
        DataColumn("event_id", _TEXT, "The Livestorm event's id.", nullable=False),
        DataColumn("event_title", _TEXT, "The event's title.", nullable=False),
        DataColumn("session_id", _TEXT, "The Livestorm session's id.", nullable=False),
        DataColumn("session_name", _TEXT, "The session's name, when it has one."),
        DataColumn("session_scheduled_at", _TIME, "When the session was planned to start."),
        DataColumn("session_started_at", _TIME, "When the session started; null until then."),
        DataColumn("registered_at", _TIME, "When the contact registered."),
        DataColumn("attended", _BOOL, "Whether the contact attended live.", nullable=False),
        DataColumn("attendance_rate", _INT, "Share of the session attended, 0 to 100."),
        DataColumn("duration_minutes", _FLOAT, "Time attended live, in minutes."),
        DataColumn(
            "replay_watched", _BOOL, "Whether the contact watched the replay.", nullable=False
        ),
        DataColumn("replay_watched_at", _TIME, "When the contact watched the replay."),
        DataColumn("messages", _INT, "Chat messages sent.", nullable=False),
        DataColumn("questions", _INT, "Questions asked.", nullable=False),
        DataColumn("votes", _INT, "Poll votes cast.", nullable=False),
        DataColumn("up_votes", _INT, "Up-votes given to questions.", nullable=False),
        DataColumn("utm_source", _TEXT, "UTM source of the registration."),
        DataColumn("utm_medium", _TEXT, "UTM medium of the registration."),
        DataColumn("utm_campaign", _TEXT, "UTM campaign of the registration."),
    )

    @override
    async def load(
        self, session: AsyncSession, contact_ids: Sequence[int]
    ) -> Mapping[int, Sequence[Mapping[str, Any]]]:
        r, s, e = RegistrationRow, SessionRow, EventRow
        statement = (
            select(
                r.contact_id,
                e.id.label("event_id"),
                e.title.label("event_title"),
                s.id.label("session_id"),
                s.name.label("session_name"),
                s.estimated_started_at.label("session_scheduled_at"),
                s.started_at.label("session_started_at"),
                r.registered_at,
                r.attended,
                r.attendance_rate,
                r.attendance_duration,
                r.has_viewed_replay.label("replay_watched"),
                r.replay_watched_at,
                r.messages_count.label("messages"),
                r.questions_count.label("questions"),
                r.votes_count.label("votes"),
                r.up_votes_count.label("up_votes"),
                r.utm_source,
                r.utm_medium,
                r.utm_campaign,
            )
            .join(s, s.id == r.session_id)
            .join(e, e.id == s.event_id)
            .where(r.contact_id.in_(contact_ids))
            .order_by(
                r.contact_id,
                func.coalesce(s.started_at, s.estimated_started_at).desc().nulls_last(),
                r.id,
            )
        )
        out: dict[int, list[Mapping[str, Any]]] = {}
        for row in (await session.execute(statement)).mappings():
            values = dict(row)
            seconds = values.pop("attendance_duration")
            values["duration_minutes"] = None if seconds is None else round(seconds / 60, 2)
            out.setdefault(values.pop("contact_id"), []).append(values)
        return out


def contact_data() -> list[BaseContactData]:
    """The plugin container's ``contact_data``."""
    return [LivestormRegistrations()]
