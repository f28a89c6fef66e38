"""Filter values: each type's and operator's rules, and the form a checked value is stored in."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from .._regexp import check_pattern
from ._dates import parse_date_value
from ._filter_context import FilterContext
from ._operators import DATED_TYPES, EMPTINESS_OPERATORS, FilterType

__all__ = ["describe_value", "normalize_filter_value"]

_MAX_LIST = 1000
_MAX_TEXT = 1000


def _string(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {describe_value(value)}")
    if not value.strip():
        raise ValueError("the value is empty; use the 'empty' operator for contacts without one")
    if len(value) > _MAX_TEXT:
        raise ValueError(f"the value is longer than {_MAX_TEXT} characters")
    return value


def _list(value: object, item: Callable[[object], Any], *, single_ok: bool) -> list[Any]:
    if single_ok and not isinstance(value, list | tuple):
        value = [value]
    if not isinstance(value, list | tuple):
        raise ValueError(f"expected a list, got {describe_value(value)}")
    if not value:
        raise ValueError("the list is empty")
    if len(value) > _MAX_LIST:
        raise ValueError(f"the list has more than {_MAX_LIST} values")
    out: list[Any] = []
    for given in value:
        normalized = item(given)
        if normalized not in out:
            out.append(normalized)
    return out


def _number(value: object) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {describe_value(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("expected a finite number")
    return value


def _pair(value: object, item: Callable[[object], Any]) -> list[Any]:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ValueError(f"expected a list of two values [from, to], got {describe_value(value)}")
    return [item(value[0]), item(value[1])]


def describe_value(value: object) -> str:
    """A value as an error message shows it: its kind, and itself when short."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"a boolean ({value!r})"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"text ({shown!r})"
    if isinstance(value, int | float):
        return f"a number ({value!r})"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _choice(choices: Sequence[str] | None) -> Callable[[object], str]:
    def check(value: object) -> str:
        text = _string(value).strip()
        if choices is None:
            return text
        for option in choices:
            if option.lower() == text.lower():
                return option
        raise ValueError(f"{text!r} is not one of the choices: {', '.join(choices)}")

    return check


def _date_text(
    with_time: bool, context: FilterContext, *, anniversary_ok: bool
) -> Callable[[object], str]:
    def check(value: object) -> str:
        if isinstance(value, date) and (with_time or not isinstance(value, datetime)):
            value = value.isoformat()
        if not isinstance(value, str):
            raise ValueError(f"expected a date, got {describe_value(value)}")
        parsed = parse_date_value(value, with_time=with_time)  # DateValueError is a ValueError
        if parsed.anniversary:
            if not anniversary_ok:
                raise ValueError(f"{parsed.text!r} only goes with the = and != operators")
            return parsed.text
        try:
            parsed.instants(context.today, context.timezone)
        except (OverflowError, ValueError) as exc:
            raise ValueError(f"{value!r} is out of the calendar's range") from exc
        return parsed.text

    return check


def normalize_filter_value(
    type: FilterType,
    operator: str,
    value: Any,
    context: FilterContext,
    *,
    choices: Sequence[str] | None = None,
) -> Any:
    """Check a filter value by the rules of its type and operator; return its stored form.

    Raises :class:`ValueError` whose message says what is wrong with the value.
    """
    if operator in EMPTINESS_OPERATORS:
        if value not in (None, "", []):
            raise ValueError(f"operator {operator!r} takes no value, got {describe_value(value)}")
        return None
    listed = operator in ("in", "!in")
    if type in (FilterType.TEXT, FilterType.SELECT, FilterType.MULTISELECT):
        pick = _choice(choices)
        if listed:
            return _list(value, pick, single_ok=type is FilterType.MULTISELECT)
        if operator in ("=", "!="):
            return pick(value)
        text = _string(value)
        if operator in ("regexp", "!regexp"):
            check_pattern(text)
        return text
    if type is FilterType.TAGS:
        return _list(value, lambda tag: _string(tag).strip().lower()[:255], single_ok=True)
    if type is FilterType.SEGMENT:
        return _list(value, lambda alias: _string(alias).strip(), single_ok=True)
    if type is FilterType.NUMBER:
        if listed:
            return _list(value, _number, single_ok=False)
        if operator in ("between", "!between"):
            low, high = _pair(value, _number)
            if low > high:
                raise ValueError(f"the range [{low}, {high}] starts after it ends")
            return [low, high]
        return _number(value)
    if type is FilterType.BOOLEAN:
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {describe_value(value)}")
        return value
    if type in DATED_TYPES:
        with_time = type is FilterType.DATETIME
        if operator in ("between", "!between"):
            low, high = _pair(value, _date_text(with_time, context, anniversary_ok=False))
            return [low, high]
        return _date_text(with_time, context, anniversary_ok=operator in ("=", "!="))(value)
    raise ValueError(f"values of type {type} are not supported")  # pragma: no cover
