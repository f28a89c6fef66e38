"""Point action types the Livestorm pull fires (one per fact a registration change shows)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import override

from leadbridge.points import BasePointActionType


class EventSettings(BaseModel):
    """Only this Livestorm event (any event when unset)."""

    model_config = ConfigDict(extra="forbid")

    event_id: str | None = Field(default=None, min_length=1)


class AttendedSettings(EventSettings):
    #: Minimum attendance rate (percent of the session) for the action to award.
    min_rate: int = Field(default=0, ge=0, le=100)
    #: Minimum minutes attended for the action to award.
    min_duration: int = Field(default=0, ge=0)


def _same_event(details: Mapping[str, Any], settings: EventSettings) -> bool:
    return settings.event_id is None or details.get("event_id") == settings.event_id


class _EventActionType(BasePointActionType[EventSettings]):
    settings_schema = EventSettings

    @override
    def matches(self, details: Mapping[str, Any], settings: EventSettings) -> bool:
        return _same_event(details, settings)


class RegisteredType(_EventActionType):
    key = "livestorm.registered"
    label = "Registered for a Livestorm event"
    description = "The contact registered for a session (optionally of one event)."


class AttendedType(BasePointActionType[AttendedSettings]):
    key = "livestorm.attended"
    label = "Attended a Livestorm event"
    description = "The contact attended a session, optionally for a minimum rate or duration."
    settings_schema = AttendedSettings

    @override
    def matches(self, details: Mapping[str, Any], settings: AttendedSettings) -> bool:
        rate = int(details.get("attendance_rate") or 0)
        minutes = int(details.get("attendance_duration") or 0) // 60
        return (
            _same_event(details, settings)
            and rate >= settings.min_rate
            and minutes >= settings.min_duration
        )


class AskedQuestionType(_EventActionType):
    key = "livestorm.asked_question"
    label = "Asked a question in a Livestorm event"
    description = "The contact asked at least one question during a session."


class VotedType(_EventActionType):
    key = "livestorm.voted"
    label = "Voted in a Livestorm poll"
    description = "The contact voted in a poll during a session."


class WatchedReplayType(_EventActionType):
    key = "livestorm.watched_replay"
    label = "Watched a Livestorm replay"
    description = "The contact watched the replay of a session."


def point_action_types() -> list[BasePointActionType[Any]]:
    """The Livestorm action types, as the container provides them."""
    return [RegisteredType(), AttendedType(), AskedQuestionType(), VotedType(), WatchedReplayType()]
