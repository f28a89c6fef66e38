"""The extension point through which a plugin adds a filter to the segment dictionary."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from sqlalchemy.sql.elements import ColumnElement

from ._filter_context import FilterContext
from ._filter_values import normalize_filter_value
from ._operators import FilterType

__all__ = ["BaseSegmentFilter"]


class BaseSegmentFilter(ABC):
    """A filter a plugin adds to the segment dictionary.

    Set the attributes and implement :meth:`clause`, which returns an SQLAlchemy boolean
    expression over ``contact_id`` (the outer query's ``contacts.id``) — typically an EXISTS
    over the plugin's own table::

        class AttendedFilter(BaseSegmentFilter):
            key = "livestorm.attended"
            label = "Attended a Livestorm event"
            type = FilterType.BOOLEAN
            operators = ("=", "!=")

            @override
            def clause(self, contact_id, operator, value, context):
                attended = exists().where(Attendance.contact_id == contact_id)
                return attended if (operator == "=") == value else ~attended

    ``value`` arrives checked by the rules of ``type`` (and ``choices``), so ``clause`` never
    sees a wrong shape: a list for ``in``/``between``, a number for NUMBER, a date string
    (absolute or relative; resolve it with ``context.day_range``/``time_range``) for dates,
    ``None`` for ``empty``. Override :meth:`normalize_value` to check more. Bind every value
    (SQLAlchemy does, for Python values in expressions); never format one into SQL text.
    Negative operators (``!=``, ``!in``, …) should include contacts without any value, as core
    filters do. :func:`column_clause` gives any column the standard semantics.

    Keys are namespaced (``plugin.name``) so that they never meet a custom field alias.
    """

    key: str
    label: str
    type: FilterType
    operators: tuple[str, ...]
    choices: tuple[str, ...] | None = None
    group: str = "plugins"

    def normalize_value(self, operator: str, value: Any, context: FilterContext) -> Any:
        """Check ``value`` for ``operator`` and return the form stored and passed to
        :meth:`clause`; raise :class:`ValueError` saying what is wrong."""
        return normalize_filter_value(self.type, operator, value, context, choices=self.choices)

    @abstractmethod
    def clause(
        self,
        contact_id: ColumnElement[int],
        operator: str,
        value: Any,
        context: FilterContext,
    ) -> ColumnElement[bool]:
        """The SQL condition a contact meets when it passes this filter."""
