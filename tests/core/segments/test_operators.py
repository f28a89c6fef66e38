"""Every field type, every operator, several values each: compared with the oracle."""

from __future__ import annotations

from datetime import datetime

import pytest

from leadbridge import CoreContainer

from .cases import DATASET, all_operators, values_for
from .conftest import NOW, TYPES, make_service, member_ids, seed
from .oracle import select_ids

#: Core text columns other than these get the common operators only (same code path).
_FULL_TEXT = {"email", "first_name", "t_text"}
_SHORT_TEXT_OPS = ("=", "!=", "empty", "!empty", "contains", "in")


def _operators(field: str) -> tuple[str, ...]:
    ops = all_operators(field)
    if TYPES[field] == "text" and field not in _FULL_TEXT:
        ops = tuple(op for op in ops if op in _SHORT_TEXT_OPS)
    return ops


def _cases(field: str) -> list[tuple[str, object]]:
    return [(op, value) for op in _operators(field) for value in values_for(field, op)]


async def _check_field(container: CoreContainer, field: str, tz: str, now: datetime) -> None:
    people = await seed(container, DATASET)
    service = make_service(container, now, tz)
    # stored memberships for the `segment` filter
    one = await service.create("One", alias="s-one")
    two = await service.create("Two", alias="s-two")
    await service.add_contacts(one.alias, [p.id for p in people[:3]])
    await service.add_contacts(two.alias, [people[1].id, people[3].id])
    for p in people[:3]:
        p.segments.add("s-one")
    for p in (people[1], people[3]):
        p.segments.add("s-two")
    probe = await service.create("Probe", alias="probe")
    mismatches = []
    for operator, value in _cases(field):
        filters = [{"field": field, "operator": operator, "value": value}]
        expected = select_ids(filters, people, TYPES, now, tz)
        await service.update(probe.alias, filters=filters)
        await service.rebuild(probe.alias)
        got = await member_ids(service, probe.alias)
        previewed = await service.preview_count(filters)
        if got != expected or previewed != len(expected):
            mismatches.append((operator, value, sorted(got), previewed, sorted(expected)))
    assert not mismatches, "\n".join(map(str, mismatches))


_FIELDS = [
    f for f in TYPES if f not in ("created_at", "updated_at", "last_active_at", "t_date", "t_dt")
]
_DATED = ["created_at", "last_active_at", "t_date", "t_dt"]


@pytest.mark.parametrize("field", _FIELDS)
async def test_every_operator_matches_the_oracle(
    container: CoreContainer, fields: None, field: str
) -> None:
    await _check_field(container, field, "UTC", NOW)


@pytest.mark.parametrize(
    ("field", "tz"),
    [(f, "UTC") for f in _DATED]
    + [(f, tz) for f in ("created_at", "t_dt") for tz in ("Asia/Tokyo", "America/New_York")],
)
async def test_every_date_operator_matches_the_oracle(
    container: CoreContainer, fields: None, field: str, tz: str
) -> None:
    await _check_field(container, field, tz, NOW)


@pytest.mark.parametrize(
    "now",
    [
        datetime.fromisoformat("2024-02-29T12:00:00+00:00"),  # leap day
        datetime.fromisoformat("2024-03-31T23:30:00+00:00"),  # month end (April 1st in Tokyo)
        datetime.fromisoformat("2023-12-31T16:00:00+00:00"),  # New Year in Tokyo only
    ],
)
async def test_relative_dates_at_calendar_edges(
    container: CoreContainer, fields: None, now: datetime
) -> None:
    await _check_field(container, "t_date", "Asia/Tokyo", now)
