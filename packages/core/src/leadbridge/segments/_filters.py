"""The filter dictionary: what can be filtered, how values are checked, what SQL a filter is.

A filter is ``{"glue": "and"|"or", "field": key, "operator": op, "value": v}``; AND binds
tighter than OR. Every value reaches the database as a bound parameter; field names only
select entries of the dictionary and never reach the SQL text.
"""

from __future__ import annotations

import enum
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import (
    Date,
    DateTime,
    Float,
    Interval,
    Select,
    String,
    TypeDecorator,
    and_,
    cast,
    exists,
    false,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.orm import InstrumentedAttribute, aliased
from sqlalchemy.sql.elements import ColumnElement

from .._errors import ConfigurationError, ValidationError
from .._regexp import check_pattern
from ..contacts import ContactRow, ContactTagRow, FieldSpec, FieldType, TagRow
from ._dates import parse_date_value
from ._models import SegmentMemberRow, SegmentRow

__all__ = [
    "ALL_OPERATORS",
    "OPERATORS",
    "BaseSegmentFilter",
    "FilterContext",
    "FilterDictionary",
    "FilterField",
    "FilterType",
    "column_clause",
    "normalize_filter_value",
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

_EMPTINESS = ("empty", "!empty")
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

_CANONICAL = {op.lower(): op for op in ALL_OPERATORS}
_TEXTUAL = (FilterType.TEXT, FilterType.SELECT)
_DATED = (FilterType.DATE, FilterType.DATETIME)
_MAX_LIST = 1000
_MAX_TEXT = 1000
#: plugin keys carry a namespace (a dot), so no custom field alias can ever take them
_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_FILTER_KEYS = frozenset({"glue", "field", "operator", "value"})


def _positive(operator: str) -> str:
    """The operator a negative one negates (``!like`` → ``like``); ``empty`` stays itself."""
    return "=" if operator == "!=" else operator.removeprefix("!")


@dataclass(frozen=True)
class FilterContext:
    """What a filter's SQL may depend on besides its value: the dialect and the clock."""

    #: ``"sqlite"`` or ``"postgresql"``
    dialect: str
    #: the (frozen, in tests) current time, aware
    now: datetime
    #: the timezone that decides where a day starts
    timezone: tzinfo

    @property
    def today(self) -> date:
        return self.now.astimezone(self.timezone).date()

    def day_range(self, value: str) -> tuple[date, date]:
        """First and last local day (inclusive) of a date value like ``"last month"``."""
        return parse_date_value(value, with_time=False).days(self.today)

    def time_range(self, value: str) -> tuple[datetime, datetime]:
        """UTC instants ``start <= t < end`` of a date or date-time value."""
        return parse_date_value(value, with_time=True).instants(self.today, self.timezone)

    def lower(self, expr: ColumnElement[Any]) -> ColumnElement[str]:
        """``lower()`` folding every letter on both backends (SQLite's built-in folds ASCII)."""
        fn = func.lower if self.dialect == "postgresql" else func.unicode_lower
        return fn(expr, type_=String())


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


# -- values --------------------------------------------------------------------------------


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {_kind(value)}")
    if not value.strip():
        raise ValueError("the value is empty; use the 'empty' operator for contacts without one")
    if len(value) > _MAX_TEXT:
        raise ValueError(f"the value is longer than {_MAX_TEXT} characters")
    return value


def _list(value: Any, item: Callable[[Any], Any], *, single_ok: bool) -> list[Any]:
    if single_ok and not isinstance(value, list | tuple):
        value = [value]
    if not isinstance(value, list | tuple):
        raise ValueError(f"expected a list, got {_kind(value)}")
    if not value:
        raise ValueError("the list is empty")
    if len(value) > _MAX_LIST:
        raise ValueError(f"the list has more than {_MAX_LIST} values")
    out: list[Any] = []
    for v in value:
        normalized = item(v)
        if normalized not in out:
            out.append(normalized)
    return out


def _number(value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {_kind(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("expected a finite number")
    return value


def _pair(value: Any, item: Callable[[Any], Any]) -> list[Any]:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ValueError(f"expected a list of two values [from, to], got {_kind(value)}")
    return [item(value[0]), item(value[1])]


def _kind(value: Any) -> str:
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


def _choice(choices: Sequence[str] | None) -> Callable[[Any], str]:
    def check(value: Any) -> str:
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
) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if isinstance(value, date) and (with_time or not isinstance(value, datetime)):
            value = value.isoformat()
        if not isinstance(value, str):
            raise ValueError(f"expected a date, got {_kind(value)}")
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
    if operator in _EMPTINESS:
        if value not in (None, "", []):
            raise ValueError(f"operator {operator!r} takes no value, got {_kind(value)}")
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
        return _list(value, lambda v: _string(v).strip().lower()[:255], single_ok=True)
    if type is FilterType.SEGMENT:
        return _list(value, lambda v: _string(v).strip(), single_ok=True)
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
            raise ValueError(f"expected true or false, got {_kind(value)}")
        return value
    if type in _DATED:
        with_time = type is FilterType.DATETIME
        if operator in ("between", "!between"):
            low, high = _pair(value, _date_text(with_time, context, anniversary_ok=False))
            return [low, high]
        return _date_text(with_time, context, anniversary_ok=operator in ("=", "!="))(value)
    raise ValueError(f"values of type {type} are not supported")  # pragma: no cover


# -- SQL -----------------------------------------------------------------------------------

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
        low, _h, _i = _bounds(column, type, value[0], context)
        _l, high, inclusive = _bounds(column, type, value[1], context)
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
        return lowered.in_([v.lower() for v in value])
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
    stringy = type in _TEXTUAL or (type in _DATED and _native(column) is None)
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
    if type in _TEXTUAL:
        positive = _text_positive(column, _positive(operator), value, context, folded)
    elif type in _DATED:
        positive = _date_positive(column, type, operator, value, context)
    elif type is FilterType.NUMBER:
        positive = _number_positive(column, _positive(operator), value)
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
        return number.in_([literal(v, Float()) for v in value])
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


# -- the dictionary ------------------------------------------------------------------------

Clause = Callable[[str, Any, FilterContext], ColumnElement[bool]]
Normalize = Callable[[str, Any, FilterContext], Any]


@dataclass(frozen=True)
class _Entry:
    field: FilterField
    clause: Clause
    normalize: Normalize


def _standard(field: FilterField) -> Normalize:
    def normalize(operator: str, value: Any, context: FilterContext) -> Any:
        return normalize_filter_value(field.type, operator, value, context, choices=field.choices)

    return normalize


def _column_entry(
    field: FilterField,
    column: Callable[[], ColumnElement[Any]],
    *,
    nullable: bool = True,
    folded: bool = False,
) -> _Entry:
    def clause(operator: str, value: Any, context: FilterContext) -> ColumnElement[bool]:
        return column_clause(
            column(), field.type, operator, value, context, nullable=nullable, folded=folded
        )

    return _Entry(field, clause, _standard(field))


_CORE_COLUMNS: tuple[tuple[str, str, FilterType, bool], ...] = (
    # key, label, type, nullable
    ("first_name", "First name", FilterType.TEXT, True),
    ("last_name", "Last name", FilterType.TEXT, True),
    ("company", "Company", FilterType.TEXT, True),
    ("phone", "Phone", FilterType.TEXT, True),
    ("city", "City", FilterType.TEXT, True),
    ("country", "Country", FilterType.TEXT, True),
    ("points", "Points", FilterType.NUMBER, False),
    ("created_at", "Created", FilterType.DATETIME, False),
    ("updated_at", "Updated", FilterType.DATETIME, False),
    ("last_active_at", "Last active", FilterType.DATETIME, True),
)

_CUSTOM_TYPES: Mapping[FieldType, FilterType] = {
    FieldType.TEXT: FilterType.TEXT,
    FieldType.EMAIL: FilterType.TEXT,
    FieldType.URL: FilterType.TEXT,
    FieldType.PHONE: FilterType.TEXT,
    FieldType.NUMBER: FilterType.NUMBER,
    FieldType.BOOLEAN: FilterType.BOOLEAN,
    FieldType.DATE: FilterType.DATE,
    FieldType.DATETIME: FilterType.DATETIME,
    FieldType.SELECT: FilterType.SELECT,
    FieldType.MULTISELECT: FilterType.MULTISELECT,
}


def _core_entries() -> Iterator[_Entry]:
    # email_key is lower(email), written by Python's str.lower: no lower() per row.
    yield _column_entry(
        FilterField("email", "Email", FilterType.TEXT, OPERATORS[FilterType.TEXT]),
        lambda: ContactRow.__table__.c.email_key,
        nullable=False,
        folded=True,
    )
    for key, label, ftype, nullable in _CORE_COLUMNS:
        yield _column_entry(
            FilterField(key, label, ftype, OPERATORS[ftype]), _attribute(key), nullable=nullable
        )


def _attribute(name: str) -> Callable[[], ColumnElement[Any]]:
    return lambda: ContactRow.__table__.c[name]


def _custom_entry(spec: FieldSpec) -> _Entry:
    ftype = _CUSTOM_TYPES[spec.type]
    field = FilterField(
        spec.alias,
        spec.label,
        ftype,
        OPERATORS[ftype],
        choices=spec.options if ftype in (FilterType.SELECT, FilterType.MULTISELECT) else None,
        group="custom",
    )
    alias = spec.alias
    if ftype is FilterType.MULTISELECT:
        return _Entry(field, lambda op, v, ctx: _multiselect(alias, op, v, ctx), _standard(field))
    if ftype is FilterType.NUMBER:
        return _column_entry(field, lambda: ContactRow.fields[alias].as_float())
    if ftype is FilterType.BOOLEAN:
        return _column_entry(field, lambda: ContactRow.fields[alias].as_boolean())
    return _column_entry(field, lambda: ContactRow.fields[alias].as_string())


def _multiselect(
    alias: str, operator: str, value: Any, context: FilterContext
) -> ColumnElement[bool]:
    if context.dialect == "postgresql":
        items = func.jsonb_array_elements_text(ContactRow.fields[alias]).table_valued("value")
    else:
        items = func.json_each(ContactRow.fields, literal(f'$."{alias}"')).table_valued("value")
    if operator in _EMPTINESS:
        some = exists(select(1).select_from(items))
        return ~some if operator == "empty" else some
    hit = exists(
        select(1)
        .select_from(items)
        .where(context.lower(items.c.value).in_([v.lower() for v in value]))
    )
    return hit if operator == "in" else ~hit


def _contact_in(
    ids: Select[Any], link: InstrumentedAttribute[int], context: FilterContext
) -> ColumnElement[bool]:
    """Whether ``contacts.id`` is among the ``ids`` selected (whose contact column is ``link``).

    SQLite runs ``id IN (subquery)`` by building the id list once, the fastest form there;
    PostgreSQL plans a correlated EXISTS as a semi-join and its negation as an anti-join,
    where ``NOT IN (subquery)`` could rescan the subquery for every contact.
    """
    if context.dialect == "postgresql":
        return exists(ids.with_only_columns(literal_column("1")).where(link == ContactRow.id))
    return ContactRow.id.in_(ids)


def _tags_clause(operator: str, value: Any, context: FilterContext) -> ColumnElement[bool]:
    ids = select(ContactTagRow.contact_id)
    if operator in ("in", "!in"):
        ids = ids.where(ContactTagRow.tag_id.in_(select(TagRow.id).where(TagRow.name.in_(value))))
    tagged = _contact_in(ids, ContactTagRow.contact_id, context)
    return tagged if operator in ("in", "!empty") else ~tagged


def _segment_clause(operator: str, value: Any, context: FilterContext) -> ColumnElement[bool]:
    # An alias of its own: inside a rebuild's DELETE FROM segment_members, the bare table
    # would correlate to the row being deleted.
    sm = aliased(SegmentMemberRow)
    ids = select(sm.contact_id).where(
        sm.segment_id.in_(select(SegmentRow.id).where(SegmentRow.alias.in_(value))),
        sm.manually_removed == false(),
    )
    member = _contact_in(ids, sm.contact_id, context)
    return member if operator == "in" else ~member


#: Keys of the filters core defines itself; custom fields with these aliases are shadowed.
TAGS_KEY = "tags"
SEGMENT_KEY = "segment"


class FilterDictionary:
    """Every filterable field: core columns, custom fields by type, tags, segment membership
    (``segment``: ``in``/``!in`` other segments, by alias) and plugin filters.

    Build one per use (custom fields change); :meth:`register` adds a plugin filter.
    """

    def __init__(
        self,
        custom_fields: Iterable[FieldSpec] = (),
        plugin_filters: Iterable[BaseSegmentFilter] = (),
    ) -> None:
        self._entries: dict[str, _Entry] = {}
        for entry in _core_entries():
            self._entries[entry.field.key] = entry
        tags = FilterField(
            "tags", "Tags", FilterType.TAGS, OPERATORS[FilterType.TAGS], group="tags"
        )
        self._entries[TAGS_KEY] = _Entry(tags, _tags_clause, _standard(tags))
        segment = FilterField(
            SEGMENT_KEY,
            "Segment membership",
            FilterType.SEGMENT,
            OPERATORS[FilterType.SEGMENT],
            group="segments",
        )
        self._entries[SEGMENT_KEY] = _Entry(segment, _segment_clause, _standard(segment))
        for spec in custom_fields:
            if spec.is_core or spec.alias in self._entries:
                continue
            self._entries[spec.alias] = _custom_entry(spec)
        for plugin_filter in plugin_filters:
            self.register(plugin_filter)

    def register(self, segment_filter: BaseSegmentFilter) -> None:
        """Add a plugin filter; a clashing key or a malformed declaration is refused."""
        key = getattr(segment_filter, "key", None)
        name = type(segment_filter).__name__
        if not isinstance(key, str) or not _KEY_RE.match(key):
            raise ConfigurationError(
                f"segment filter {name}: key {key!r} must be namespaced lowercase words joined "
                "by dots, like 'livestorm.attended'"
            )
        if key in self._entries:
            raise ConfigurationError(f"segment filter {name}: key {key!r} is taken")
        ftype = getattr(segment_filter, "type", None)
        if not isinstance(ftype, FilterType) or ftype in (FilterType.TAGS, FilterType.SEGMENT):
            raise ConfigurationError(
                f"segment filter {key!r}: type must be a FilterType among "
                + ", ".join(
                    t.value for t in FilterType if t not in (FilterType.TAGS, FilterType.SEGMENT)
                )
            )
        operators = tuple(getattr(segment_filter, "operators", ()) or ())
        wrong = [op for op in operators if op not in OPERATORS[ftype]]
        if not operators or wrong:
            raise ConfigurationError(
                f"segment filter {key!r}: operators must be a non-empty subset of "
                f"{', '.join(OPERATORS[ftype])} for type {ftype.value}"
                + (f" (not {', '.join(wrong)})" if wrong else "")
            )
        field = FilterField(
            key,
            str(getattr(segment_filter, "label", key)),
            ftype,
            operators,
            choices=tuple(segment_filter.choices) if segment_filter.choices is not None else None,
            group=segment_filter.group,
        )

        def clause(operator: str, value: Any, context: FilterContext) -> ColumnElement[bool]:
            return segment_filter.clause(ContactRow.__table__.c.id, operator, value, context)

        self._entries[key] = _Entry(field, clause, segment_filter.normalize_value)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __iter__(self) -> Iterator[FilterField]:
        return (entry.field for entry in self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> FilterField | None:
        entry = self._entries.get(key)
        return entry.field if entry is not None else None

    def fields(self) -> list[FilterField]:
        return list(self)

    def validate(
        self, filters: Sequence[Mapping[str, Any]], context: FilterContext
    ) -> list[dict[str, Any]]:
        """Check a filter list and return its normalized form.

        Raises :class:`ValidationError` naming the filter (``filters[i]``), its field and the
        reason: an unknown field, an operator that does not fit the field's type, a value of
        the wrong shape, a malformed relative date.
        """
        if isinstance(filters, str | bytes) or not isinstance(filters, Sequence):
            raise ValidationError("filters must be a list of filters", field="filters")
        out: list[dict[str, Any]] = []
        for i, raw in enumerate(filters):
            out.append(self._validate_one(i, raw, context))
        return out

    def _validate_one(self, i: int, raw: Any, context: FilterContext) -> dict[str, Any]:
        where = f"filters[{i}]"
        if not isinstance(raw, Mapping):
            raise ValidationError(
                f"{where}: expected an object with glue, field, operator and value",
                field=where,
            )
        unknown = sorted(str(k) for k in raw if k not in _FILTER_KEYS)
        if unknown:
            raise ValidationError(
                f"{where}: unknown key {unknown[0]!r} (a filter has glue, field, operator, value)",
                field=f"{where}.{unknown[0]}",
            )
        glue = raw.get("glue", "and")
        if not isinstance(glue, str) or glue.lower() not in ("and", "or"):
            raise ValidationError(
                f"{where}: glue must be 'and' or 'or', got {_kind(glue)}",
                field=f"{where}.glue",
                value=glue,
            )
        key = raw.get("field")
        entry = self._entries.get(key) if isinstance(key, str) else None
        if entry is None:
            raise ValidationError(
                f"{where}: unknown field {key!r}", field=f"{where}.field", value=key
            )
        field = entry.field
        named = f"{where} (field {field.key!r})"
        operator = raw.get("operator")
        canonical = _CANONICAL.get(operator.lower()) if isinstance(operator, str) else None
        if canonical is None or canonical not in field.operators:
            kind = "unknown operator" if canonical is None else "operator"
            raise ValidationError(
                f"{named}: {kind} {operator!r} does not apply to a {field.type.value} field; "
                f"use one of {', '.join(field.operators)}",
                field=f"{where}.operator",
                value=operator,
            )
        try:
            value = entry.normalize(canonical, raw.get("value"), context)
        except ValueError as exc:
            raise ValidationError(
                f"{named}, operator {canonical!r}: {exc}",
                field=f"{where}.value",
                value=raw.get("value"),
            ) from exc
        return {"glue": glue.lower(), "field": field.key, "operator": canonical, "value": value}

    def where(
        self, filters: Sequence[Mapping[str, Any]], context: FilterContext
    ) -> ColumnElement[bool]:
        """The SQL condition over ``contacts`` of a filter list (validated again here).

        An empty list matches no contact: a segment without filters holds only the contacts
        added to it by hand.
        """
        groups: list[list[ColumnElement[bool]]] = []
        for item in self.validate(filters, context):
            clause = self._entries[item["field"]].clause(item["operator"], item["value"], context)
            if not groups or item["glue"] == "or":
                groups.append([clause])
            else:
                groups[-1].append(clause)
        if not groups:
            return false()
        return or_(*(and_(*group) for group in groups))


def referenced_segments(filters: Iterable[Mapping[str, Any]]) -> list[str]:
    """Aliases of the segments a (normalized) filter list refers to."""
    out: list[str] = []
    for item in filters:
        if item.get("field") == SEGMENT_KEY and isinstance(item.get("value"), list):
            out.extend(v for v in item["value"] if isinstance(v, str) and v not in out)
    return out
