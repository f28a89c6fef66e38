from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from leadbridge import CoreContainer
from leadbridge.jobs import InvalidScheduleError, ScheduleService

T0 = datetime(2026, 12, 4, 10, 0, 30, tzinfo=UTC)


def service(container: CoreContainer, now: datetime = T0) -> ScheduleService:
    return ScheduleService(container.session_factory(), clock=lambda: now)


@pytest.mark.parametrize(
    ("kind", "target", "cron", "tz", "field"),
    [
        ("sync", "memory", "61 * * * *", "UTC", "cron"),
        ("sync", "memory", "every minute", "UTC", "cron"),
        ("sync", "memory", "", "UTC", "cron"),
        ("sync", "memory", "* * * * *", "Mars/Olympus", "timezone"),
        ("teleport", None, "* * * * *", "UTC", "kind"),
        ("sync", None, "* * * * *", "UTC", "target"),
        ("prune", "x", "* * * * *", "UTC", "target"),
    ],
)
async def test_a_bad_schedule_is_refused_naming_what_is_wrong(
    container: CoreContainer, kind: str, target: str | None, cron: str, tz: str, field: str
) -> None:
    schedules = service(container)
    with pytest.raises(InvalidScheduleError) as caught:
        await schedules.add(kind, target, cron, timezone=tz)
    assert caught.value.field == field
    assert (
        repr({"cron": cron, "timezone": tz, "kind": kind, "target": target}[field])[1:-1]
        in str(caught.value)
        or field == "target"
    )
    assert await schedules.list() == []


async def test_next_due_follows_the_cron_in_its_time_zone(container: CoreContainer) -> None:
    schedules = service(container)
    hourly = await schedules.add("sync", "memory", "0 * * * *")
    assert hourly.next_due_at == datetime(2026, 12, 4, 11, 0, tzinfo=UTC)
    # 09:00 in Paris is 08:00 UTC in December: the next one is tomorrow's.
    paris = await schedules.add("segments", None, "0 9 * * *", timezone="Europe/Paris")
    assert paris.next_due_at == datetime(2026, 12, 5, 8, 0, tzinfo=UTC)


async def test_a_due_schedule_is_claimed_once_even_by_concurrent_claimers(
    container: CoreContainer,
) -> None:
    schedules = service(container)
    every_minute = await schedules.add("prune", None, "* * * * *")
    due = every_minute.next_due_at
    claims = await asyncio.gather(*(schedules.claim_due(due) for _ in range(3)))
    assert sorted(len(c) for c in claims) == [0, 0, 1]
    assert await schedules.claim_due(due) == []  # the same tick again: nothing
    later = await schedules.claim_due(due + timedelta(minutes=1))
    assert [s.id for s in later] == [every_minute.id]


async def test_a_paused_schedule_does_not_fire_and_resumes_from_its_next_time(
    container: CoreContainer,
) -> None:
    schedules = service(container)
    added = await schedules.add("prune", None, "* * * * *")
    await schedules.pause(added.id)
    assert await schedules.claim_due(T0 + timedelta(hours=1)) == []
    resumed = await schedules.resume(added.id)
    assert resumed.enabled and resumed.next_due_at == datetime(2026, 12, 4, 10, 1, tzinfo=UTC)


async def test_a_schedule_that_missed_many_times_fires_once(container: CoreContainer) -> None:
    schedules = service(container)
    added = await schedules.add("prune", None, "* * * * *")
    claimed = await schedules.claim_due(T0 + timedelta(hours=3))
    assert [s.id for s in claimed] == [added.id]
    assert await schedules.claim_due(T0 + timedelta(hours=3)) == []
