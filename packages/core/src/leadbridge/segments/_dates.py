"""Absolute and relative date values of segment filters, resolved against a clock.

A value resolves to a span of whole local days ``(first, last)`` (inclusive) in the configured
timezone, or, for a date-time given to the second, to that one second.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

__all__ = [
    "ANNIVERSARY",
    "DateValue",
    "DateValueError",
    "add_months",
    "local_midnight",
    "parse_date_value",
]

#: Values that match when month and day equal today's, whatever the year.
ANNIVERSARY = frozenset({"birthday", "anniversary"})

_UNIT = r"(day|days|week|weeks|month|months|year|years)"
_OFFSET = re.compile(rf"^([+-])\s*(\d{{1,5}})\s*{_UNIT}$")
_AGO = re.compile(rf"^(\d{{1,5}})\s*{_UNIT}\s+ago$")
_PERIOD = re.compile(r"^(this|last|next)\s+(week|month|year)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SINGLE_DAYS = {"today": 0, "yesterday": -1, "tomorrow": 1}


class DateValueError(ValueError):
    """A value that is neither an ISO date (date-time) nor a relative date we know."""


@dataclass(frozen=True)
class DateValue:
    """A parsed filter date value; :meth:`days` and :meth:`instants` resolve it."""

    text: str
    #: an absolute day, a day offset ``(n, unit)``, or a period ``(which, unit)``
    day: date | None = None
    instant: datetime | None = None
    offset: tuple[int, str] | None = None
    period: tuple[str, str] | None = None
    anniversary: bool = False

    def days(self, today: date) -> tuple[date, date]:
        """The local days this value covers, first and last (inclusive)."""
        if self.day is not None:
            return self.day, self.day
        if self.offset is not None:
            n, unit = self.offset
            day = _shift(today, n, unit)
            return day, day
        if self.period is not None:
            which, unit = self.period
            step = {"this": 0, "last": -1, "next": 1}[which]
            if unit == "week":
                first = today - timedelta(days=today.weekday()) + timedelta(weeks=step)
                return first, first + timedelta(days=6)
            if unit == "month":
                first = add_months(today.replace(day=1), step)
                return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])
            year = today.year + step
            return date(year, 1, 1), date(year, 12, 31)
        if self.anniversary:
            raise DateValueError(f"{self.text!r} matches a day in every year, not one span")
        raise DateValueError(f"{self.text!r} is a date-time, not a date")

    def instants(self, today: date, zone: tzinfo) -> tuple[datetime, datetime]:
        """The UTC instants this value covers: ``start <= t < end``."""
        if self.instant is not None:
            start = self.instant if self.instant.tzinfo else self.instant.replace(tzinfo=zone)
            start = start.astimezone(UTC).replace(microsecond=0)
            return start, start + timedelta(seconds=1)
        first, last = self.days(today)
        return local_midnight(first, zone), local_midnight(last + timedelta(days=1), zone)


def local_midnight(day: date, zone: tzinfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months; the 31st becomes the last day of a shorter month."""
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _shift(today: date, count: int, unit: str) -> date:
    unit = unit.rstrip("s")
    if unit == "day":
        return today + timedelta(days=count)
    if unit == "week":
        return today + timedelta(weeks=count)
    return add_months(today, count if unit == "month" else 12 * count)


def parse_date_value(value: str, *, with_time: bool) -> DateValue:
    """Parse a filter value for a date (``with_time=False``) or date-time field.

    Raises :class:`DateValueError` with the reason.
    """
    text = " ".join(value.strip().split())
    lowered = text.lower()
    if lowered in _SINGLE_DAYS:
        return DateValue(lowered, offset=(_SINGLE_DAYS[lowered], "day"))
    if lowered in ANNIVERSARY:
        return DateValue(lowered, anniversary=True)
    if period := _PERIOD.match(lowered):
        return DateValue(lowered, period=(period[1], period[2]))
    if offset := _OFFSET.match(lowered):
        count = int(offset[2])
        return DateValue(lowered, offset=(-count if offset[1] == "-" else count, offset[3]))
    if ago := _AGO.match(lowered):
        return DateValue(lowered, offset=(-int(ago[1]), ago[2]))
    if _DATE.match(text):
        try:
            return DateValue(text, day=date.fromisoformat(text))
        except ValueError as exc:
            raise DateValueError(f"{text!r} is not a valid date") from exc
    if with_time and len(text) > 10 and text[:4].isdigit() and text[10:11] in ("T", " "):
        try:
            instant = datetime.fromisoformat(text.replace("z", "Z"))
        except ValueError as exc:
            raise DateValueError(f"{text!r} is not a valid ISO 8601 date-time") from exc
        return DateValue(text, instant=instant)
    if text[:1].isdigit() and text[:4].isdigit() and not with_time:
        raise DateValueError(f"{text!r} is not a date YYYY-MM-DD")
    raise DateValueError(
        f"{text!r} is not a date we understand: use YYYY-MM-DD"
        + (" or an ISO 8601 date-time" if with_time else "")
        + ", today, yesterday, tomorrow, this|last|next week|month|year, "
        "+N/-N days|weeks|months|years, N days ago, birthday or anniversary"
    )
