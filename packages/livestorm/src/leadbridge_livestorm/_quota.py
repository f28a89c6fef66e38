"""The 30-day call quota, as Livestorm reports it on every response."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from leadbridge.db import utcnow

from ._errors import QuotaReserveReachedError

MONTHLY_LIMIT_HEADER = "RateLimit-Monthly-Limit"
MONTHLY_REMAINING_HEADER = "RateLimit-Monthly-Remaining"
#: The spelling Livestorm's own published spec and a production client read (sic).
MONTLY_LIMIT_HEADER = "RateLimit-Montly-Limit"
MONTLY_REMAINING_HEADER = "RateLimit-Montly-Remaining"
INTERVAL_LIMIT_HEADER = "RateLimit-Interval-Limit"
INTERVAL_REMAINING_HEADER = "RateLimit-Interval-Remaining"
RESET_HEADER = "RateLimit-Reset"


def _int(headers: Mapping[str, str], *names: str) -> int | None:
    """The first of ``names`` present with a whole number (``"9.0"`` reads as 9)."""
    for name in names:
        value = headers.get(name)
        if value is None:
            continue
        try:
            return int(float(value.strip()))
        except (ValueError, OverflowError):
            continue
    return None


@dataclass
class QuotaState:
    """What the last response said about the quota (``None``: not seen yet).

    ``monthly_*`` is the workspace's 30-day allowance (10,000 calls), ``interval_*`` the burst
    limit (5 per second). ``reset_at`` comes with a 429 (``RateLimit-Reset``). What is older
    than ``max_age``, or from before ``reset_at``, no longer counts: the next call refreshes it.
    """

    monthly_limit: int | None = None
    monthly_remaining: int | None = None
    interval_limit: int | None = None
    interval_remaining: int | None = None
    reset_at: datetime | None = None
    updated_at: datetime | None = None
    max_age: timedelta = field(default=timedelta(hours=1), repr=False)
    #: Calls sent whose answer has not come back yet: they count against the reserve.
    in_flight: int = field(default=0, repr=False)

    def update(self, headers: Mapping[str, str]) -> None:
        """Read the ``RateLimit-*`` headers of a response (absent ones leave the value).

        The monthly pair is read under both spellings, ``RateLimit-Monthly-*`` (the docs) and
        ``RateLimit-Montly-*`` (Livestorm's published spec and clients).
        """
        values = {
            "monthly_limit": _int(headers, MONTHLY_LIMIT_HEADER, MONTLY_LIMIT_HEADER),
            "monthly_remaining": _int(headers, MONTHLY_REMAINING_HEADER, MONTLY_REMAINING_HEADER),
            "interval_limit": _int(headers, INTERVAL_LIMIT_HEADER),
            "interval_remaining": _int(headers, INTERVAL_REMAINING_HEADER),
        }
        seen = False
        for name, value in values.items():
            if value is not None:
                setattr(self, name, value)
                seen = True
        reset = _int(headers, RESET_HEADER)
        if reset is not None and reset > 0:
            self.reset_at = datetime.fromtimestamp(reset, tz=UTC)
        if seen:
            self.updated_at = utcnow()

    def check(self, reserve: int, cost: int = 1) -> None:
        """Raise :class:`QuotaReserveReachedError` if ``cost`` more calls would dip into
        ``reserve``.

        Unknown (no response seen yet, or what was seen is out of date) means allowed: the
        answer tells.
        """
        if self.monthly_remaining is None or not self.current():
            return
        left = self.monthly_remaining - self.in_flight
        if left - cost < reserve:
            retry_after = None
            if self.reset_at is not None:
                retry_after = max(0.0, (self.reset_at - utcnow()).total_seconds())
            needs = "the next call" if cost == 1 else f"the next step ({cost} calls)"
            raise QuotaReserveReachedError(
                f"Livestorm quota: {left} of the workspace's monthly API calls are left and "
                f"{reserve} are kept in reserve; stopping before {needs}"
                + (f" (the quota resets at {self.reset_at.isoformat()})" if self.reset_at else ""),
                remaining=left,
                reserve=reserve,
                reset_at=self.reset_at,
                retry_after=retry_after,
            )

    def current(self) -> bool:
        """Whether what the last response said still holds."""
        now = utcnow()
        if self.updated_at is None or now - self.updated_at > self.max_age:
            return False
        return self.reset_at is None or now < self.reset_at or self.updated_at >= self.reset_at

    def forget(self) -> None:
        """Drop what is known (the quota was reset): the next call reads it afresh."""
        self.monthly_limit = self.monthly_remaining = None
        self.interval_limit = self.interval_remaining = None
        self.reset_at = self.updated_at = None

    def to_dict(self) -> dict[str, object]:
        return {
            "monthly_limit": self.monthly_limit,
            "monthly_remaining": self.monthly_remaining,
            "interval_limit": self.interval_limit,
            "interval_remaining": self.interval_remaining,
            "reset_at": self.reset_at.isoformat() if self.reset_at else None,
        }
