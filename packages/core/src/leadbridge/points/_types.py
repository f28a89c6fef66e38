"""Point action types: what can award points. Core registers three; plugins add their own."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator
from typing_extensions import override

from ..events import ContactCreated, ContactFieldChanged, Event, TagAdded
from ._settings import SettingsT, _Configurable, _Registry


class BasePointActionType(_Configurable[SettingsT], ABC):
    """A kind of thing a contact does that can be worth points.

    Subclass it, set ``key``, ``label`` and ``settings_schema`` (a pydantic model), implement
    :meth:`matches`, and hand an instance to ``PointsService(action_types=[...])`` (plugins:
    through their container's ``point_action_types``)::

        class AttendedSettings(BaseModel):
            model_config = ConfigDict(extra="forbid")
            event_id: str | None = None
            min_rate: int = Field(0, ge=0, le=100)

        class Attended(BasePointActionType[AttendedSettings]):
            key = "livestorm.attended"
            label = "Attended a webinar"
            settings_schema = AttendedSettings

            @override
            def matches(self, details: Mapping[str, Any], settings: AttendedSettings) -> bool:
                if settings.event_id is not None and details.get("event_id") != settings.event_id:
                    return False
                return int(details.get("attendance_rate") or 0) >= settings.min_rate

    Operators configure actions of the type (``delta``, settings, group, repeatable); the
    settings are validated against ``settings_schema`` when an action is saved, and errors
    name the setting (``settings.min_rate: Input should be less than or equal to 100``).

    The plugin then fires the type with ``points.trigger(key, contact_id, details,
    session=...)`` or, for many contacts at once, ``points.award_bulk(key, contact_ids,
    details, session=...)``; every published action of the type whose settings match
    ``details`` awards.

    Optional hook: set :attr:`events` and override :meth:`details_from` to be fired from the
    event bus; the service subscribes such types when it is built.
    """

    #: Event classes this type is fired from when the service subscribes it to the event bus.
    events: ClassVar[tuple[type[Event], ...]] = ()

    @abstractmethod
    def matches(self, details: Mapping[str, Any], settings: SettingsT) -> bool:
        """Whether an action configured with ``settings`` applies to an event with ``details``."""

    def details_from(self, event: Event) -> tuple[int, Mapping[str, Any]] | None:
        """``(contact_id, details)`` of an event of :attr:`events`, or ``None`` to skip it."""
        return None


class ContactCreatedSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Only contacts created by this source (``internal``, ``livestorm`` …); any when unset.
    source: str | None = Field(default=None, min_length=1, max_length=64)


class ContactCreatedType(BasePointActionType[ContactCreatedSettings]):
    key = "contact.created"
    label = "Contact created"
    description = "A contact is created (optionally only by one source)."
    settings_schema = ContactCreatedSettings
    events = (ContactCreated,)

    @override
    def matches(self, details: Mapping[str, Any], settings: ContactCreatedSettings) -> bool:
        return settings.source is None or details.get("source") == settings.source

    @override
    def details_from(self, event: Event) -> tuple[int, Mapping[str, Any]] | None:
        if not isinstance(event, ContactCreated):
            return None
        return event.contact_id, {"source": event.source}


_ALIAS_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
Scalar = str | int | float | bool | None


class FieldValueSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: A core field name or custom field alias.
    field: str
    #: The value the field changes to; compared case-insensitively as text (``None``: emptied).
    value: Scalar

    @field_validator("field")
    @classmethod
    def _alias(cls, value: str) -> str:
        if not _ALIAS_RE.match(value):
            raise ValueError("expected a field alias (lowercase letters, digits, underscores)")
        return value


def _comparable(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, list | tuple | set | frozenset):
        return sorted(str(_comparable(v)) for v in value)
    return str(value).strip().casefold()


class FieldChangedType(BasePointActionType[FieldValueSettings]):
    key = "contact.field_changed"
    label = "Field changed to a value"
    description = "A contact field is changed to the configured value."
    settings_schema = FieldValueSettings
    events = (ContactFieldChanged,)

    @override
    def matches(self, details: Mapping[str, Any], settings: FieldValueSettings) -> bool:
        if details.get("field") != settings.field:
            return False
        new = _comparable(details.get("new"))
        wanted = _comparable(settings.value)
        # A multiselect "changes to" a value when the value is among its options.
        return new == wanted or (isinstance(new, list) and wanted in new)

    @override
    def details_from(self, event: Event) -> tuple[int, Mapping[str, Any]] | None:
        if not isinstance(event, ContactFieldChanged):
            return None
        return event.contact_id, {
            "field": event.field,
            "old": event.old,
            "new": event.new,
            "source": event.source,
        }


class TagSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tag: str = Field(min_length=1, max_length=255)

    @field_validator("tag")
    @classmethod
    def _normalize(cls, value: str) -> str:
        # Tags are stored lowercased and trimmed (see ContactService.tag).
        value = value.strip().lower()
        if not value:
            raise ValueError("a tag cannot be blank")
        return value


class TagAddedType(BasePointActionType[TagSettings]):
    key = "contact.tag_added"
    label = "Tag added"
    description = "The configured tag is added to a contact."
    settings_schema = TagSettings
    events = (TagAdded,)

    @override
    def matches(self, details: Mapping[str, Any], settings: TagSettings) -> bool:
        return str(details.get("tag", "")).strip().lower() == settings.tag

    @override
    def details_from(self, event: Event) -> tuple[int, Mapping[str, Any]] | None:
        if not isinstance(event, TagAdded):
            return None
        return event.contact_id, {"tag": event.tag}


class PointActionTypeRegistry(_Registry[BasePointActionType[Any]]):
    """Core's action types plus ``action_types`` (from plugins); keys are unique."""

    kind = "point action type"

    def __init__(self, action_types: Sequence[BasePointActionType[Any]] = ()) -> None:
        super().__init__([ContactCreatedType(), FieldChangedType(), TagAddedType(), *action_types])
