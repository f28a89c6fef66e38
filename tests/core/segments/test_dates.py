"""Relative date values resolved against a frozen clock (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from leadbridge.segments import FilterContext

# Friday 2024-03-15, 10:30 UTC; 06:30 in New York (EDT since March 10th)
CONTEXT = FilterContext("sqlite", datetime(2024, 3, 15, 10, 30, tzinfo=UTC), ZoneInfo("UTC"))
NEW_YORK = FilterContext("sqlite", CONTEXT.now, ZoneInfo("America/New_York"))


@pytest.mark.parametrize(
    ("value", "first", "last"),
    [
        ("today", "2024-03-15", "2024-03-15"),
        ("Yesterday", "2024-03-14", "2024-03-14"),
        ("tomorrow", "2024-03-16", "2024-03-16"),
        ("this week", "2024-03-11", "2024-03-17"),
        ("last  week", "2024-03-04", "2024-03-10"),
        ("next week", "2024-03-18", "2024-03-24"),
        ("this month", "2024-03-01", "2024-03-31"),
        ("last month", "2024-02-01", "2024-02-29"),
        ("next month", "2024-04-01", "2024-04-30"),
        ("this year", "2024-01-01", "2024-12-31"),
        ("last year", "2023-01-01", "2023-12-31"),
        ("next year", "2025-01-01", "2025-12-31"),
        ("+3 days", "2024-03-18", "2024-03-18"),
        ("-1 day", "2024-03-14", "2024-03-14"),
        ("+2 weeks", "2024-03-29", "2024-03-29"),
        ("-1 month", "2024-02-15", "2024-02-15"),
        ("+1 year", "2025-03-15", "2025-03-15"),
        ("-2years", "2022-03-15", "2022-03-15"),
        ("10 days ago", "2024-03-05", "2024-03-05"),
        ("1 week ago", "2024-03-08", "2024-03-08"),
        ("2024-02-29", "2024-02-29", "2024-02-29"),
    ],
)
def test_days_of_relative_values(value: str, first: str, last: str) -> None:
    assert CONTEXT.day_range(value) == (date.fromisoformat(first), date.fromisoformat(last))


def test_months_keep_to_the_last_day() -> None:
    march_31 = FilterContext("sqlite", datetime(2024, 3, 31, 12, tzinfo=UTC), ZoneInfo("UTC"))
    assert march_31.day_range("-1 month") == (date(2024, 2, 29), date(2024, 2, 29))
    assert march_31.day_range("+1 year") == (date(2025, 3, 31), date(2025, 3, 31))
    leap = FilterContext("sqlite", datetime(2024, 2, 29, 12, tzinfo=UTC), ZoneInfo("UTC"))
    assert leap.day_range("+1 year") == (date(2025, 2, 28), date(2025, 2, 28))


def test_a_day_is_the_whole_local_day() -> None:
    assert NEW_YORK.time_range("today") == (
        datetime(2024, 3, 15, 4, tzinfo=UTC),
        datetime(2024, 3, 16, 4, tzinfo=UTC),
    )
    # the week that lost an hour to daylight saving time
    start, end = NEW_YORK.time_range("last week")
    assert (start, end) == (
        datetime(2024, 3, 4, 5, tzinfo=UTC),
        datetime(2024, 3, 11, 4, tzinfo=UTC),
    )
    assert CONTEXT.time_range("2024-03-15T10:30:00.7+01:00") == (
        datetime(2024, 3, 15, 9, 30, tzinfo=UTC),
        datetime(2024, 3, 15, 9, 30, 1, tzinfo=UTC),
    )
    # a date-time without an offset is local time
    assert NEW_YORK.time_range("2024-03-15 08:00:00")[0] == datetime(2024, 3, 15, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    "value", ["3 days", "+3 fortnights", "last decade", "2024-13-01", "someday", "+-3 days", ""]
)
def test_malformed_values_say_what_is_accepted(value: str) -> None:
    with pytest.raises(ValueError, match="not a"):
        CONTEXT.day_range(value)
