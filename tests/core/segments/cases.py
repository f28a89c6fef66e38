"""Values to try with every operator, and a dataset that has something for each of them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from leadbridge.segments import OPERATORS, FilterType

from .conftest import MULTI_OPTIONS, NOW, SELECT_OPTIONS, TYPES

TEXT_VALUES = ["ann", "ANN", "Ännä", "o'neil", "%", "a_b", "x%y", "é", "example.com", "zzz"]
LIKE_VALUES = ["ann", "%.com", "a_b", "_nn%", "%", "ä%", "x\\y", "%'%"]
REGEXPS = ["^a", "n$", "[éÉ]", "o.n", "^$", "\\.com$", "a|b", "^[0-9]+"]
NUMBERS = [-5, 0, 1.5, 10, 42, 100]
DATE_VALUES = [
    "today",
    "yesterday",
    "tomorrow",
    "this week",
    "last week",
    "next week",
    "this month",
    "last month",
    "next month",
    "this year",
    "last year",
    "next year",
    "+2 days",
    "-3 days",
    "+1 week",
    "-2 weeks",
    "+1 month",
    "-1 months",
    "+1 year",
    "-2 years",
    "3 days ago",
    "1 month ago",
    "2024-03-15",
    "2024-02-29",
    "2023-03-15",
]
DATETIME_EXTRA = ["2024-03-15T10:30:00Z", "2024-03-15T08:00:00+02:00", "2024-03-14 23:59:59"]
TAGS = ["lead", "VIP", "customer", "nobody"]
SEGMENTS = ["s-one", "s-two"]


def values_for(field: str, operator: str) -> list[Any]:
    """Valid values for ``operator`` on ``field`` (``[None]`` for empty/!empty)."""
    kind = TYPES[field]
    if operator in ("empty", "!empty"):
        return [None]
    if kind == "tags":
        return [[t] for t in TAGS] + [TAGS[:2]]
    if kind == "segment":
        return [["s-one"], ["s-two"], SEGMENTS]
    if kind == "select":
        if operator in ("in", "!in"):
            return [SELECT_OPTIONS[:2], ["gamma"]]
        return [o.upper() for o in SELECT_OPTIONS]
    if kind == "multiselect":
        return [["red"], ["GREEN", "blue"], MULTI_OPTIONS]
    if kind == "text":
        if operator in ("in", "!in"):
            return [TEXT_VALUES[:3], ["example.com", "ZZZ"]]
        if operator in ("like", "!like"):
            return LIKE_VALUES
        if operator in ("regexp", "!regexp"):
            return REGEXPS
        return TEXT_VALUES
    if kind == "number":
        if operator in ("in", "!in"):
            return [[0, 42], [1.5]]
        if operator in ("between", "!between"):
            return [[0, 10], [-5, 1.5], [42, 100]]
        return NUMBERS
    if kind == "boolean":
        return [True, False]
    dates = DATE_VALUES + (DATETIME_EXTRA if kind == "datetime" else [])
    if operator in ("between", "!between"):
        return [["last month", "today"], ["2024-01-01", "2024-03-14"], ["-3 days", "+2 days"]]
    if operator in ("=", "!="):
        return [*dates, "birthday", "anniversary"]
    return [d for d in dates if d in _ORDERED] + (DATETIME_EXTRA[:1] if kind == "datetime" else [])


#: enough relative values for gt/gte/lt/lte (= and != try them all)
_ORDERED = {"today", "this week", "last month", "next year", "-3 days", "+1 month", "2024-02-29"}


def all_operators(field: str) -> tuple[str, ...]:
    return OPERATORS[FilterType(TYPES[field])]


def _at(days: float, hour: int = 12, minute: int = 0, micro: int = 0) -> datetime:
    base = NOW.replace(hour=hour, minute=minute, second=0, microsecond=micro)
    return base + timedelta(days=days)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


#: Contacts to run every operator against: missing values, odd case, non-ASCII, wildcards.
DATASET: list[dict[str, Any]] = [
    {
        "email": "Ann@Example.com",
        "first_name": "Ann",
        "city": "Paris",
        "fields": {
            "t_text": "ANN",
            "t_num": 42,
            "t_bool": True,
            "t_date": "2024-03-15",
            "t_dt": "2024-03-15T10:30:00Z",
            "t_sel": "Alpha",
            "t_multi": ["red", "Green"],
        },
        "tags": ["lead", "vip"],
        "points": 10,
        "created_at": _at(0, 0, 0),
        "last_active_at": _at(-1, 23, 59, 999_999),
    },
    {
        "email": "ännä@école.fr",
        "first_name": "ÄNNÄ",
        "company": "o'neil & co",
        "fields": {
            "t_text": "Ännä",
            "t_num": 1.5,
            "t_bool": False,
            "t_date": "2021-03-15",
            "t_dt": "2023-03-15T00:00:00Z",
            "t_sel": "beta",
            "t_multi": ["blue"],
        },
        "tags": ["customer"],
        "points": 0,
        "created_at": _at(-3, 10),
        "last_active_at": _at(2, 8),
    },
    {
        "email": "a_b@x.io",
        "first_name": "a_b",
        "last_name": "x%y",
        "fields": {"t_text": "x\\y", "t_num": -5, "t_date": "2024-02-29", "t_sel": "Gamma"},
        "points": 100,
        "created_at": _at(-400, 5),
    },
    {
        "email": "zed@example.com",
        "first_name": "Zed",
        "country": "FR",
        "fields": {"t_num": 0, "t_dt": _iso(_at(-14, 1)), "t_multi": ["red", "blue", "Green"]},
        "tags": ["lead"],
        "points": 42,
        "created_at": _at(-30, 23, 59, 500_000),
        "last_active_at": _at(-45, 0, 0),
    },
    {
        "email": "12345@numbers.org",
        "phone": "+33 1 23 45 67 89",
        "fields": {"t_text": "12345", "t_num": 100, "t_date": "2025-03-15", "t_bool": True},
        "points": 5,
        "created_at": _at(365, 12),
    },
    {"email": "empty@nothing.net", "points": 0, "created_at": _at(-1, 0, 0)},
    {
        "email": "Tokyo@example.com",
        "first_name": "ann-marie",
        "fields": {
            "t_text": "Ann-Marie",
            "t_num": 10,
            "t_date": "2024-03-16",
            "t_dt": "2024-03-14T15:00:00Z",  # 2024-03-15 00:00 in Tokyo
            "t_multi": ["Green"],
        },
        "tags": ["vip"],
        "points": 1,
        "created_at": _at(-7, 15),
        "last_active_at": _at(31, 9),
    },
]
