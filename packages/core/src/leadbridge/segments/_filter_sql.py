"""The SQL of a filter over one column, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Date,
    DateTime,
    Float,
    Interval,
    TypeDecorator,
    and_,
    cast,
    false,
    func,
    literal,
    not_,
    or_,
    true,
    type_coerce,
)
from sqlalchemy.sql.elements import ColumnElement

from ._dates import parse_date_value
from ._filter_context import FilterContext
from ._operators import DATED_TYPES, TEXTUAL_TYPES, FilterType, positive_operator

__all__ = ["column_clause"]

_LIKE_ESCAPE = "\\"


def _escape_like(text: str) -> str:
    return text.replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2).replace("%", "\\%").replace("_", "\\_")


def _native(column: ColumnElement[Any]) -> type[Date] | type[DateTime] | None:
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    if isinstance(kind, DateTime):
        return DateTime
    if isinstance(kind, Date):
        return Date
    return None


def _month_day(column: ColumnElement[Any], type: FilterType, context: FilterContext) -> Any:
    """``MM-DD`` of a date, or of a date-time in the configured timezone.

    Date-times are shifted by the timezone's offset today: an instant whose local date is
    today's month and day lies in the same season, so the offset only differs from the right
    one in the few days between two years' daylight-saving switches.
    """
    native = _native(column)
    if type is FilterType.DATE and native is not DateTime:
        if native is Date and context.dialect == "postgresql":
            return func.to_char(column, "MM-DD")
        return func.substr(column, 6, 5)
    noon = datetime.combine(context.today, datetime.min.time()).replace(
        hour=12, tzinfo=context.timezone
    )
    offset = noon.utcoffset() or timedelta(0)
    seconds = int(offset.total_seconds())
    if context.dialect == "postgresql":
        wall = func.timezone("UTC", column) if native is DateTime else cast(column, DateTime())
        shifted = wall + literal(timedelta(seconds=seconds), Interval())
        return func.to_char(shifted, "MM-DD")
    return func.strftime("%m-%d", column, f"{seconds:+d} seconds")


def _bounds(
    column: ColumnElement[Any], type: FilterType, value: str, context: FilterContext
) -> tuple[object, object, bool]:
    """``(low, high, inclusive_high)`` of a date value in the column's own representation."""
    native = _native(column)
    if type is FilterType.DATE and native is not DateTime:
        first, last = context.day_range(value)
        if native is Date:
            return first, last, True
        return first.isoformat(), last.isoformat(), True
    start, end = context.time_range(value)
    if native is DateTime:
        return start, end, False
    return _iso(start), _iso(end), False


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _date_positive(
    column: ColumnElement[Any],
    type: FilterType,
    operator: str,
    value: Any,
    context: FilterContext,
) -> ColumnElement[bool]:
    if operator in ("between", "!between"):
        low = _bounds(column, type, value[0], context)[0]
        _, high, inclusive = _bounds(column, type, value[1], context)
        return and_(column >= low, column <= high if inclusive else column < high)
    if isinstance(value, str) and parse_date_value(value, with_time=True).anniversary:
        month_day: ColumnElement[str] = _month_day(column, type, context)
        return month_day == context.today.strftime("%m-%d")
    low, high, inclusive = _bounds(column, type, value, context)
    below_high = column <= high if inclusive else column < high
    if operator in ("=", "!="):
        return and_(column >= low, below_high)
    if operator == "gt":
        return column > high if inclusive else column >= high
    if operator == "gte":
        return column >= low
    if operator == "lt":
        return column < low
    if operator == "lte":
        return below_high
    raise ValueError(f"operator {operator!r} does not apply to dates")  # pragma: no cover


def _text_positive(
    column: ColumnElement[Any],
    operator: str,
    value: Any,
    context: FilterContext,
    folded: bool,
) -> ColumnElement[bool]:
    if operator in ("regexp", "!regexp"):
        if context.dialect == "postgresql":
            return column.regexp_match(value, flags="i")
        return column.regexp_match(value)  # the REGEXP function registered is case-insensitive
    lowered = column if folded else context.lower(column)
    if operator in ("in", "!in"):
        return lowered.in_([given.lower() for given in value])
    pattern: str = value.lower()
    if operator == "=":
        return lowered == pattern
    if operator in ("like", "!like"):
        # % and _ are wildcards; a backslash is a plain character on both backends.
        pattern = pattern.replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2)
        if "%" not in pattern:
            pattern = f"%{pattern}%"
    elif operator == "contains":
        pattern = f"%{_escape_like(pattern)}%"
    elif operator == "startsWith":
        pattern = f"{_escape_like(pattern)}%"
    elif operator == "endsWith":
        pattern = f"%{_escape_like(pattern)}"
    else:  # pragma: no cover
        raise ValueError(f"operator {operator!r} does not apply to text")
    return lowered.like(pattern, escape=_LIKE_ESCAPE)


def column_clause(
    column: ColumnElement[Any],
    type: FilterType,
    operator: str,
    value: Any,
    context: FilterContext,
    *,
    nullable: bool = True,
    folded: bool = False,
) -> ColumnElement[bool]:
    """The standard meaning of ``operator`` over one SQL expression holding a ``type`` value.

    Text compares case-insensitively (``folded=True`` says the column is lowercase already);
    text and date strings that are empty count as no value; negative operators include
    contacts without a value. Dates compare as whole local days (or seconds, for a date-time
    value given to the second). ``nullable=False`` leaves out the checks for no value.
    """
    stringy = type in TEXTUAL_TYPES or (type in DATED_TYPES and _native(column) is None)
    missing: ColumnElement[bool] | None = None
    present: ColumnElement[bool] | None = None
    if nullable:
        if stringy:
            missing = or_(column.is_(None), column == "")
            present = and_(column.is_not(None), column != "")
        else:
            missing = column.is_(None)
            present = column.is_not(None)
    if operator == "empty":
        return missing if missing is not None else false()
    if operator == "!empty":
        return present if present is not None else true()
    if type in TEXTUAL_TYPES:
        positive = _text_positive(column, positive_operator(operator), value, context, folded)
    elif type in DATED_TYPES:
        positive = _date_positive(column, type, operator, value, context)
    elif type is FilterType.NUMBER:
        positive = _number_positive(column, positive_operator(operator), value)
    elif type is FilterType.BOOLEAN:
        positive = column == value
    else:
        raise ValueError(f"column_clause does not handle {type} filters")
    if operator.startswith("!"):
        return or_(missing, not_(positive)) if missing is not None else not_(positive)
    # Only these can match an empty string (a like '%', a regexp '^$', lt a date); the others
    # need a non-empty value, and NULL never matches. Fewer JSON extractions per row.
    if stringy and present is not None and operator in ("like", "regexp", "lt", "lte"):
        return and_(present, positive)
    return positive


def _number_positive(column: ColumnElement[Any], operator: str, value: Any) -> ColumnElement[bool]:
    number: ColumnElement[float] = type_coerce(column, Float())
    if operator == "in":
        # typed binds: an integer column would bind them as integers (1.5 would become 1)
        return number.in_([literal(given, Float()) for given in value])
    if operator == "between":
        low: float = value[0]
        high: float = value[1]
        return and_(number >= low, number <= high)
    given: float = value
    if operator == "=":
        return number == given
    if operator == "gt":
        return number > given
    if operator == "gte":
        return number >= given
    if operator == "lt":
        return number < given
    if operator == "lte":
        return number <= given
    raise ValueError(f"operator {operator!r} does not apply to numbers")  # pragma: no cover
