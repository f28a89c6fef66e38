"""Random contacts, random filter lists over every field type and operator: the database's
members must be exactly the oracle's."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadbridge import CoreContainer

from .cases import TAGS, all_operators, values_for
from .conftest import MULTI_OPTIONS, SELECT_OPTIONS, TYPES, make_service, member_ids, reset, seed
from .oracle import select_ids

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

NOWS = [
    datetime(2024, 3, 15, 10, 30, tzinfo=UTC),
    datetime(2024, 2, 29, 23, 45, tzinfo=UTC),  # leap day, already March 1st in Tokyo
    datetime(2023, 12, 31, 16, 0, tzinfo=UTC),  # New Year in Tokyo, not elsewhere
    datetime(2024, 1, 1, 1, 0, tzinfo=UTC),  # still 2023 in São Paulo
    datetime(2024, 9, 30, 12, 0, tzinfo=UTC),  # a Monday, month end
]
#: zones without daylight saving in the years generated: a date-time's anniversary is then
#: exactly today's month and day in that zone (see the README on daylight saving)
TZS = ["UTC", "Asia/Tokyo", "America/Sao_Paulo"]

ALPHABET = "aAnNéÉ%_ '-x\\."
words = st.text(alphabet=ALPHABET, min_size=1, max_size=5)
maybe = st.none()


def _around(now: datetime) -> st.SearchStrategy[datetime]:
    return st.integers(-800 * 86400, 800 * 86400).map(lambda s: now + timedelta(seconds=s))


@st.composite
def contact(draw: st.DrawFn, i: int, now: datetime) -> dict[str, Any]:
    moment = _around(now)
    fields: dict[str, Any] = {
        "t_text": draw(maybe | words),
        "t_num": draw(maybe | st.integers(-5, 100) | st.sampled_from([1.5, -0.25, 42.0])),
        "t_bool": draw(maybe | st.booleans()),
        "t_date": draw(maybe | moment.map(lambda d: d.date().isoformat())),
        "t_dt": draw(maybe | moment.map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ"))),
        "t_sel": draw(maybe | st.sampled_from(SELECT_OPTIONS)),
        "t_multi": draw(maybe | st.lists(st.sampled_from(MULTI_OPTIONS), min_size=1, unique=True)),
    }
    return {
        "email": f"{draw(st.sampled_from(['ann', 'Bob', 'ÉVE', 'a_b', 'c%d']))}{i}"
        f"@{draw(st.sampled_from(['Example.com', 'x.io', 'école.fr']))}",
        "first_name": draw(maybe | words),
        "city": draw(maybe | st.sampled_from(["Lyon", "lyon", "Nice", "Zürich"])),
        "fields": {k: v for k, v in fields.items() if v is not None},
        "tags": draw(st.lists(st.sampled_from(["lead", "VIP", "customer"]), unique=True)),
        "points": draw(st.integers(-10, 200)),
        "created_at": draw(_around(now).map(lambda d: d.replace(microsecond=d.second * 1000))),
        "last_active_at": draw(maybe | _around(now)),
    }


def _relative() -> st.SearchStrategy[str]:
    unit = st.sampled_from(["day", "days", "week", "weeks", "month", "months", "year", "years"])
    n = st.integers(0, 40)
    return (
        st.builds(lambda s, k, u: f"{s}{k} {u}", st.sampled_from("+-"), n, unit)
        | st.builds(lambda k, u: f"{k} {u} ago", n, unit)
        | st.sampled_from(["today", "yesterday", "tomorrow"])
        | st.builds(
            lambda w, u: f"{w} {u}",
            st.sampled_from(["this", "last", "next"]),
            st.sampled_from(["week", "month", "year"]),
        )
    )


def _date_value(kind: str, now: datetime) -> st.SearchStrategy[str]:
    absolute = _around(now).map(lambda d: d.date().isoformat())
    out = _relative() | absolute
    if kind == "datetime":
        out = out | _around(now).map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return out


def value(field: str, operator: str, now: datetime) -> st.SearchStrategy[Any]:
    known = st.sampled_from(values_for(field, operator))
    kind = TYPES[field]
    if operator in ("empty", "!empty") or kind in ("boolean", "select", "multiselect", "segment"):
        return known
    if kind == "tags":
        return known | st.lists(st.sampled_from(TAGS), min_size=1, max_size=3)
    if kind == "text":
        if operator in ("in", "!in"):
            return known | st.lists(words.filter(str.strip), min_size=1, max_size=3)
        if operator in ("regexp", "!regexp"):
            return known | words.map(re.escape)
        return known | words.filter(str.strip)
    if kind == "number":
        number = st.integers(-6, 101) | st.sampled_from([1.5, -0.25])
        if operator in ("in", "!in"):
            return known | st.lists(number, min_size=1, max_size=3)
        if operator in ("between", "!between"):
            return known | st.tuples(number, number).map(sorted)
        return known | number
    if operator in ("between", "!between"):
        return known | st.lists(_date_value(kind, now), min_size=2, max_size=2)
    return known | _date_value(kind, now)


@st.composite
def filters(draw: st.DrawFn, now: datetime) -> list[dict[str, Any]]:
    out = []
    for _ in range(draw(st.integers(1, 4))):
        field = draw(st.sampled_from(sorted(TYPES)))
        operator = draw(st.sampled_from(all_operators(field)))
        item = {
            "glue": draw(st.sampled_from(["and", "and", "or"])),
            "field": field,
            "operator": operator,
            "value": draw(value(field, operator, now)),
        }
        out.append(item)
    return out


@st.composite
def scenario(draw: st.DrawFn) -> dict[str, Any]:
    now = draw(st.sampled_from(NOWS))
    n = draw(st.integers(0, 8))
    return {
        "now": now,
        "tz": draw(st.sampled_from(TZS)),
        "contacts": [draw(contact(i, now)) for i in range(n)],
        "s_one": draw(st.sets(st.integers(0, max(n - 1, 0)))) if n else set(),
        "s_two": draw(st.sets(st.integers(0, max(n - 1, 0)))) if n else set(),
        "first": draw(filters(now)),
        "second": draw(filters(now)),
    }


@SETTINGS
@given(case=scenario())
async def test_random_filters_match_the_oracle(
    container: CoreContainer, fields: None, case: dict[str, Any]
) -> None:
    await reset(container)
    people = await seed(container, case["contacts"])
    now, tz = case["now"], case["tz"]
    service = make_service(container, now, tz)
    for alias, picked in (("s-one", case["s_one"]), ("s-two", case["s_two"])):
        await service.create(alias, alias=alias)
        await service.add_contacts(alias, [people[i].id for i in picked])
        for i in picked:
            people[i].segments.add(alias)

    probe = await service.create("Probe", alias="probe", filters=case["first"])
    for filters_ in (case["first"], case["second"]):  # from empty, then incrementally
        await service.update(probe.alias, filters=filters_)
        expected = select_ids(filters_, people, TYPES, now, tz)
        result = await service.rebuild(probe.alias)
        assert await member_ids(service, probe.alias) == expected, filters_
        assert result.total == len(expected)
        assert await service.preview_count(filters_) == len(expected)
