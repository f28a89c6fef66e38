"""Filter types and the operators each one allows."""

from __future__ import annotations

import enum
from collections.abc import Mapping

__all__ = [
    "ALL_OPERATORS",
    "DATED_TYPES",
    "EMPTINESS_OPERATORS",
    "OPERATORS",
    "TEXTUAL_TYPES",
    "FilterType",
    "canonical_operator",
    "positive_operator",
]


class FilterType(enum.StrEnum):
    """What kind of value a filter compares; it decides the operators and the value's shape."""

    TEXT = "text"
    SELECT = "select"
    MULTISELECT = "multiselect"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    TAGS = "tags"
    SEGMENT = "segment"


#: Every operator, in the order the dictionary lists them.
ALL_OPERATORS: tuple[str, ...] = (
    "=",
    "!=",
    "gt",
    "gte",
    "lt",
    "lte",
    "empty",
    "!empty",
    "like",
    "!like",
    "contains",
    "startsWith",
    "endsWith",
    "regexp",
    "!regexp",
    "in",
    "!in",
    "between",
    "!between",
)

#: The operators that take no value.
EMPTINESS_OPERATORS = ("empty", "!empty")
_ORDER = ("=", "!=", "gt", "gte", "lt", "lte", "empty", "!empty")

#: The operators each filter type allows.
OPERATORS: Mapping[FilterType, tuple[str, ...]] = {
    FilterType.TEXT: (
        "=",
        "!=",
        "empty",
        "!empty",
        "like",
        "!like",
        "contains",
        "startsWith",
        "endsWith",
        "regexp",
        "!regexp",
        "in",
        "!in",
    ),
    FilterType.SELECT: ("=", "!=", "empty", "!empty", "in", "!in"),
    FilterType.MULTISELECT: ("in", "!in", "empty", "!empty"),
    FilterType.NUMBER: (*_ORDER, "in", "!in", "between", "!between"),
    FilterType.BOOLEAN: ("=", "!=", "empty", "!empty"),
    FilterType.DATE: (*_ORDER, "between", "!between"),
    FilterType.DATETIME: (*_ORDER, "between", "!between"),
    FilterType.TAGS: ("in", "!in", "empty", "!empty"),
    FilterType.SEGMENT: ("in", "!in"),
}

#: The types whose values are text in SQL, and the two date types.
TEXTUAL_TYPES = (FilterType.TEXT, FilterType.SELECT)
DATED_TYPES = (FilterType.DATE, FilterType.DATETIME)

_CANONICAL = {operator.lower(): operator for operator in ALL_OPERATORS}


def canonical_operator(given: object) -> str | None:
    """The operator ``given`` names, in any letter case (``startswith`` → ``startsWith``)."""
    return _CANONICAL.get(given.lower()) if isinstance(given, str) else None


def positive_operator(operator: str) -> str:
    """The operator a negative one negates (``!like`` → ``like``); ``empty`` stays itself."""
    return "=" if operator == "!=" else operator.removeprefix("!")
