"""An independent oracle: segment filters evaluated in plain Python over contact snapshots.

Written from the specification (the issue and the README), not from the SQL builder: it shares
no code with ``leadbridge.segments``. Tests compare the database's answer with this one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo


@dataclass
class Person:
    id: int
    #: field key → stored value (core columns and custom fields alike; None when absent)
    values: dict[str, Any]
    tags: set[str] = field(default_factory=set)
    #: aliases of the segments this contact is a stored member of
    segments: set[str] = field(default_factory=set)


def select_ids(
    filters: Sequence[Mapping[str, Any]],
    people: Sequence[Person],
    types: Mapping[str, str],
    now: datetime,
    tz: str,
) -> set[int]:
    return {p.id for p in people if matches(filters, p, types, now, ZoneInfo(tz))}


def matches(
    filters: Sequence[Mapping[str, Any]],
    person: Person,
    types: Mapping[str, str],
    now: datetime,
    tz: ZoneInfo,
) -> bool:
    if not filters:
        return False
    # OR of AND-groups: a new group starts at every "or".
    result = False
    group = True
    for i, f in enumerate(filters):
        if i > 0 and f.get("glue", "and").lower() == "or":
            result = result or group
            group = True
        group = group and _one(f, person, types, now, tz)
    return result or group


def _has(v: Any) -> bool:
    return v is not None and v != "" and v != []


def _one(
    f: Mapping[str, Any], p: Person, types: Mapping[str, str], now: datetime, tz: ZoneInfo
) -> bool:
    key, op, value = f["field"], f["operator"], f.get("value")
    kind = types[key]
    if kind == "tags":
        wanted = {str(v).strip().lower() for v in _listed(value)}
        return {
            "in": bool(p.tags & wanted),
            "!in": not (p.tags & wanted),
            "empty": not p.tags,
            "!empty": bool(p.tags),
        }[op]
    if kind == "segment":
        hit = bool(p.segments & set(_listed(value)))
        return hit if op == "in" else not hit
    x = p.values.get(key)
    if op == "empty":
        return not _has(x)
    if op == "!empty":
        return _has(x)
    negative = op.startswith("!")
    if negative and not _has(x):
        return True
    if not _has(x):
        return False
    positive = "=" if op == "!=" else op.lstrip("!")
    if kind == "multiselect":
        wanted = {v.lower() for v in _listed(value)}
        hit = bool({v.lower() for v in x} & wanted)
    elif kind in ("text", "select"):
        hit = _text(positive, x, value)
    elif kind == "number":
        hit = _number(positive, float(x), value)
    elif kind == "boolean":
        hit = x is value
    else:
        hit = _dated(kind, positive, x, value, now, tz)
    return not hit if negative else hit


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _text(op: str, x: str, value: Any) -> bool:
    s = x.lower()
    if op == "=":
        return s == value.strip().lower()
    if op == "in":
        return s in {v.strip().lower() for v in value}
    if op == "contains":
        return value.lower() in s
    if op == "startsWith":
        return s.startswith(value.lower())
    if op == "endsWith":
        return s.endswith(value.lower())
    if op == "regexp":
        return re.search(value, x, re.IGNORECASE) is not None
    if op == "like":
        pattern = value.lower()
        if "%" not in pattern:
            pattern = f"%{pattern}%"
        regex = "".join(
            ".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern
        )
        return re.fullmatch(regex, s, re.DOTALL) is not None
    raise AssertionError(op)


def _number(op: str, x: float, value: Any) -> bool:
    if op == "in":
        return x in [float(v) for v in value]
    if op == "between":
        return float(value[0]) <= x <= float(value[1])
    v = float(value)
    return {"=": x == v, "gt": x > v, "gte": x >= v, "lt": x < v, "lte": x <= v}[op]


# -- dates ---------------------------------------------------------------------------------

_UNITS = {"day": "d", "days": "d", "week": "w", "weeks": "w", "month": "m", "months": "m",
          "year": "y", "years": "y"}  # fmt: skip


def _month_shift(d: date, months: int) -> date:
    total = d.year * 12 + (d.month - 1) + months
    year, month = total // 12, total % 12 + 1
    day = d.day
    while True:
        try:
            return date(year, month, day)
        except ValueError:
            day -= 1


def _shift(d: date, n: int, unit: str) -> date:
    u = _UNITS[unit]
    if u == "d":
        return d + timedelta(days=n)
    if u == "w":
        return d + timedelta(days=7 * n)
    return _month_shift(d, n if u == "m" else 12 * n)


def _days(text: str, today: date) -> tuple[date, date]:
    """First and last local day a date value covers."""
    t = " ".join(text.strip().lower().split())
    single = {"today": 0, "yesterday": -1, "tomorrow": 1}
    if t in single:
        d = today + timedelta(days=single[t])
        return d, d
    words = t.split()
    if len(words) == 2 and words[0] in ("this", "last", "next"):
        step = {"this": 0, "last": -1, "next": 1}[words[0]]
        if words[1] == "week":
            monday = today - timedelta(days=today.isoweekday() - 1) + timedelta(days=7 * step)
            return monday, monday + timedelta(days=6)
        if words[1] == "month":
            first = _month_shift(date(today.year, today.month, 1), step)
            nxt = _month_shift(first, 1)
            return first, nxt - timedelta(days=1)
        return date(today.year + step, 1, 1), date(today.year + step, 12, 31)
    m = re.fullmatch(r"([+-])\s*(\d+)\s*([a-z]+)", t)
    if m:
        n = int(m[2]) * (-1 if m[1] == "-" else 1)
        d = _shift(today, n, m[3])
        return d, d
    m = re.fullmatch(r"(\d+)\s*([a-z]+) ago", t)
    if m:
        d = _shift(today, -int(m[1]), m[2])
        return d, d
    d = date.fromisoformat(t)
    return d, d


def _instant(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)


def _span(kind: str, text: str, today: date, tz: ZoneInfo) -> tuple[Any, Any]:
    """``[low, high)``: dates for date fields, UTC instants for date-time fields."""
    if kind == "datetime" and len(text.strip()) > 10 and text.strip()[:4].isdigit():
        given = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        if given.tzinfo is None:
            given = given.replace(tzinfo=tz)
        start = given.astimezone(UTC).replace(microsecond=0)
        return start, start + timedelta(seconds=1)
    first, last = _days(text, today)
    if kind == "date":
        return first, last + timedelta(days=1)

    def midnight(d: date) -> datetime:
        return datetime(d.year, d.month, d.day, tzinfo=tz).astimezone(UTC)

    return midnight(first), midnight(last + timedelta(days=1))


def _dated(kind: str, op: str, x: Any, value: Any, now: datetime, tz: ZoneInfo) -> bool:
    today = now.astimezone(tz).date()
    if kind == "date":
        point: Any = date.fromisoformat(x)
        local_day = point
    else:
        point = _instant(x)
        local_day = point.astimezone(tz).date()
    if isinstance(value, str) and value.strip().lower() in ("birthday", "anniversary"):
        return (local_day.month, local_day.day) == (today.month, today.day)
    if op == "between":
        low, _ = _span(kind, value[0], today, tz)
        _, high = _span(kind, value[1], today, tz)
        return low <= point < high
    low, high = _span(kind, value, today, tz)
    return {
        "=": low <= point < high,
        "gt": point >= high,
        "gte": point >= low,
        "lt": point < low,
        "lte": point < high,
    }[op]
