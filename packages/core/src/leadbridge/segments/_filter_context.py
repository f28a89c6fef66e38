"""What a filter's SQL may depend on besides its value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import String, func
from sqlalchemy.sql.elements import ColumnElement

from ._dates import parse_date_value

__all__ = ["FilterContext"]


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
        folding = func.lower if self.dialect == "postgresql" else func.unicode_lower
        return folding(expr, type_=String())
