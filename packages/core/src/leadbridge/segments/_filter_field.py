"""One entry of the filter dictionary: the field a UI lists, how its filters check and compile."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.sql.elements import ColumnElement

from ._filter_context import FilterContext
from ._operators import FilterType

__all__ = ["FilterClause", "FilterEntry", "FilterField", "FilterNormalizer"]


@dataclass(frozen=True)
class FilterField:
    """One entry of the dictionary, as a UI lists it."""

    key: str
    label: str
    type: FilterType
    operators: tuple[str, ...]
    #: the values a select-like filter accepts, when it is a closed list
    choices: tuple[str, ...] | None = None
    #: ``core``, ``custom``, ``tags``, ``segments`` or the plugin's group
    group: str = "core"

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "type": self.type.value,
            "operators": list(self.operators),
            "choices": list(self.choices) if self.choices is not None else None,
            "group": self.group,
        }


#: ``(operator, value, context)`` → the SQL condition over ``contacts``
FilterClause = Callable[[str, Any, FilterContext], ColumnElement[bool]]
#: ``(operator, raw value, context)`` → the checked, stored value (or :class:`ValueError`)
FilterNormalizer = Callable[[str, Any, FilterContext], Any]


@dataclass(frozen=True)
class FilterEntry:
    field: FilterField
    clause: FilterClause
    normalize: FilterNormalizer
