"""The example plugin's segment filter and point action type (small but real)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from sqlalchemy.sql.elements import ColumnElement
from typing_extensions import override

from leadbridge.points import BasePointActionType
from leadbridge.segments import BaseSegmentFilter, FilterContext, FilterType

from ._widgets import widgets


class HasWidgetFilter(BaseSegmentFilter):
    key = "example.has_widget"
    label = "Has a widget (one named after the contact's id)"
    type = FilterType.BOOLEAN
    operators = ("=", "!=")

    @override
    def clause(
        self, contact_id: ColumnElement[int], operator: str, value: Any, context: FilterContext
    ) -> ColumnElement[bool]:
        has = sa.exists().where(widgets.c.name == sa.cast(contact_id, sa.String))
        return has if (operator == "=") == bool(value) else ~has


class WidgetAddedSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None


class WidgetAddedType(BasePointActionType[WidgetAddedSettings]):
    key = "example.widget_added"
    label = "Widget added"
    settings_schema = WidgetAddedSettings

    @override
    def matches(self, details: Mapping[str, Any], settings: WidgetAddedSettings) -> bool:
        return settings.name is None or details.get("name") == settings.name
