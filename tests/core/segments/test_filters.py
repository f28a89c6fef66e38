from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    Integer,
    MetaData,
    Table,
    exists,
    select,
    text,
)
from typing_extensions import override

from leadbridge import ConfigurationError, CoreContainer, ValidationError
from leadbridge.segments import (
    BaseSegmentFilter,
    FilterContext,
    FilterDictionary,
    FilterType,
    SegmentService,
)

from .conftest import NOW, make_service, member_ids, seed


async def _ids(service: SegmentService, filters: list[dict[str, Any]]) -> set[int]:
    """Members after a rebuild, checked against the live count and the preview."""
    if not any(s.alias == "t" for s in await service.list()):
        await service.create("T", alias="t")
    await service.update("t", filters=filters)
    result = await service.rebuild("t")
    ids = await member_ids(service, "t")
    assert (
        result.total == len(ids) == await service.count("t") == await service.preview_count(filters)
    )
    return ids


# -- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "where", "words"),
    [
        (
            [{"field": "shoe_size", "operator": "=", "value": "42"}],
            "filters[0].field",
            ["unknown field", "shoe_size"],
        ),
        (
            [
                {"field": "email", "operator": "=", "value": "a@x.io"},
                {"field": "t_num", "operator": "like", "value": "4"},
            ],
            "filters[1].operator",
            ["filters[1]", "t_num", "'like'", "number"],
        ),
        (
            [{"field": "t_num", "operator": "gt", "value": "ten"}],
            "filters[0].value",
            ["t_num", "expected a number", "'ten'"],
        ),
        (
            [{"field": "t_num", "operator": "gt", "value": True}],
            "filters[0].value",
            ["expected a number", "boolean"],
        ),
        (
            [{"field": "t_bool", "operator": "=", "value": "yes"}],
            "filters[0].value",
            ["expected true or false"],
        ),
        (
            [{"field": "t_date", "operator": "gt", "value": "+3 fortnights"}],
            "filters[0].value",
            ["t_date", "+3 fortnights", "not a date"],
        ),
        (
            [{"field": "created_at", "operator": "=", "value": "last decade"}],
            "filters[0].value",
            ["last decade"],
        ),
        (
            [{"field": "t_date", "operator": "=", "value": "2024-02-30"}],
            "filters[0].value",
            ["2024-02-30", "not a valid date"],
        ),
        (
            [{"field": "t_date", "operator": "gt", "value": "birthday"}],
            "filters[0].value",
            ["birthday", "only goes with"],
        ),
        (
            [{"field": "t_num", "operator": "between", "value": [10, 1]}],
            "filters[0].value",
            ["starts after it ends"],
        ),
        (
            [{"field": "t_num", "operator": "between", "value": 5}],
            "filters[0].value",
            ["list of two values"],
        ),
        (
            [{"field": "first_name", "operator": "regexp", "value": "("}],
            "filters[0].value",
            ["regular expression"],
        ),
        (
            [{"field": "first_name", "operator": "=", "value": "  "}],
            "filters[0].value",
            ["empty", "'empty' operator"],
        ),
        (
            [{"field": "first_name", "operator": "in", "value": []}],
            "filters[0].value",
            ["list is empty"],
        ),
        (
            [{"field": "t_sel", "operator": "=", "value": "delta"}],
            "filters[0].value",
            ["not one of the choices", "Alpha"],
        ),
        (
            [{"field": "t_multi", "operator": "in", "value": ["red", "pink"]}],
            "filters[0].value",
            ["'pink'"],
        ),
        (
            [{"field": "tags", "operator": "contains", "value": "x"}],
            "filters[0].operator",
            ["tags", "'contains'", "in, !in"],
        ),
        (
            [{"field": "segment", "operator": "in", "value": ["ghost"]}],
            "filters[0].value",
            ["segment 'ghost' does not exist"],
        ),
        (
            [{"field": "email", "operator": "empty", "value": "x"}],
            "filters[0].value",
            ["takes no value"],
        ),
        (
            [{"field": "email", "operator": "equals", "value": "x"}],
            "filters[0].operator",
            ["unknown operator 'equals'"],
        ),
        (
            [{"glue": "xor", "field": "email", "operator": "=", "value": "x"}],
            "filters[0].glue",
            ["glue"],
        ),
        ([{"field": "email", "op": "=", "value": "x"}], "filters[0].op", ["unknown key 'op'"]),
        (["email = x"], "filters[0]", ["expected an object"]),
    ],
)
async def test_bad_filters_are_refused_by_name_and_nothing_is_written(
    segments: SegmentService, filters: list[Any], where: str, words: list[str]
) -> None:
    with pytest.raises(ValidationError) as info:
        await segments.create("Bad", filters=filters)
    assert info.value.field == where
    for word in words:
        assert word in info.value.message
    with pytest.raises(ValidationError):
        await segments.preview_count(filters)
    assert await segments.list() == []


async def test_filters_are_stored_normalized(segments: SegmentService) -> None:
    segment = await segments.create(
        "Norm",
        filters=[
            {"field": "t_sel", "operator": "IN", "value": ["ALPHA", "gamma"]},
            {"glue": "OR", "field": "tags", "operator": "in", "value": " VIP "},
            {"field": "t_date", "operator": "gte", "value": " Last  Month "},
            {"field": "email", "operator": "endswith", "value": "@x.io"},
        ],
    )
    assert segment.filters == [
        {"glue": "and", "field": "t_sel", "operator": "in", "value": ["Alpha", "Gamma"]},
        {"glue": "or", "field": "tags", "operator": "in", "value": ["vip"]},
        {"glue": "and", "field": "t_date", "operator": "gte", "value": "last month"},
        {"glue": "and", "field": "email", "operator": "endsWith", "value": "@x.io"},
    ]
    assert (await segments.get_by_alias("norm")).filters == segment.filters


# -- semantics -----------------------------------------------------------------------------


async def test_and_binds_tighter_than_or(
    container: CoreContainer, segments: SegmentService
) -> None:
    a, b, c, d = await seed(
        container,
        [
            {"email": "a@x.io", "city": "Paris"},
            {"email": "b@x.io", "city": "Lyon", "fields": {"t_num": 5}},
            {"email": "c@x.io", "city": "Lyon"},
            {"email": "d@y.io", "city": "Nice", "fields": {"t_num": 5}},
        ],
    )
    # city = Paris OR (city = Lyon AND t_num = 5)
    filters = [
        {"field": "city", "operator": "=", "value": "paris"},
        {"glue": "or", "field": "city", "operator": "=", "value": "LYON"},
        {"glue": "and", "field": "t_num", "operator": "=", "value": 5},
    ]
    assert await _ids(segments, filters) == {a.id, b.id}
    # (email endsWith x.io AND t_num = 5) OR city = Nice
    filters = [
        {"field": "email", "operator": "endsWith", "value": "x.io"},
        {"field": "t_num", "operator": "=", "value": 5},
        {"glue": "or", "field": "city", "operator": "=", "value": "nice"},
    ]
    assert await _ids(segments, filters) == {b.id, d.id}
    assert c.id not in await _ids(segments, filters)


async def test_negative_operators_include_missing_and_empty_values(
    container: CoreContainer, segments: SegmentService
) -> None:
    set_, missing, blank = await seed(
        container,
        [
            {"email": "set@x.io", "first_name": "Ann", "fields": {"t_text": "Ann", "t_num": 3}},
            {"email": "missing@x.io"},
            {"email": "blank@x.io", "first_name": "Bob"},
        ],
    )
    # An empty string written by someone else's SQL is no value either.
    async with container.session_factory().begin() as session:
        await session.execute(
            text("UPDATE contacts SET first_name = '' WHERE id = :id"), {"id": blank.id}
        )
    await container.contact_service().update(blank.id, {"t_text": "x"})
    dialect = container.engine().dialect.name
    blank_json = (
        "UPDATE contacts SET fields = jsonb_set(fields, '{t_text}', '\"\"') WHERE id = :id"
        if dialect == "postgresql"
        else "UPDATE contacts SET fields = json_set(fields, '$.t_text', '') WHERE id = :id"
    )
    async with container.session_factory().begin() as session:
        await session.execute(text(blank_json), {"id": blank.id})

    for field in ("first_name", "t_text"):
        for operator, value in (
            ("!=", "ann"),
            ("!like", "%"),
            ("!regexp", "."),
            ("!in", ["ann"]),
            ("empty", None),
        ):
            got = await _ids(segments, [{"field": field, "operator": operator, "value": value}])
            assert got == {missing.id, blank.id}, (field, operator)
        for operator, value in (("like", "%"), ("regexp", "^.*$"), ("!empty", None)):
            got = await _ids(segments, [{"field": field, "operator": operator, "value": value}])
            assert got == {set_.id}, (field, operator)
    for operator, value in (("!=", 3), ("!in", [3]), ("!between", [0, 10]), ("empty", None)):
        got = await _ids(segments, [{"field": "t_num", "operator": operator, "value": value}])
        assert got == {missing.id, blank.id}, operator
    got = await _ids(segments, [{"field": "last_active_at", "operator": "!=", "value": "today"}])
    assert got == {set_.id, missing.id, blank.id}


async def test_numbers_compare_exactly_with_an_integer_column(
    container: CoreContainer, segments: SegmentService
) -> None:
    zero, one = await seed(
        container, [{"email": "zero@x.io", "points": 0}, {"email": "one@x.io", "points": 1}]
    )

    async def ids(operator: str, value: Any) -> set[int]:
        return await _ids(segments, [{"field": "points", "operator": operator, "value": value}])

    # PostgreSQL binds values for an INTEGER column as integers unless told: 1.5 became 1
    assert await ids("in", [0, 1.5]) == {zero.id}
    assert await ids("in", [1.5]) == set()
    assert await ids("=", 1.5) == set()
    assert await ids("!in", [1.5]) == {zero.id, one.id}
    assert await ids("in", [1.0]) == {one.id}
    assert await ids("between", [0.5, 1.5]) == {one.id}


async def test_text_is_case_insensitive_and_like_matches_anywhere(
    container: CoreContainer, segments: SegmentService
) -> None:
    ann, eve = await seed(
        container,
        [
            {"email": "Ann.Smith@Example.COM", "first_name": "ÉLODIE", "company": "100% Sure_Co"},
            {"email": "eve@example.org", "first_name": "eve", "company": "100 Surely"},
        ],
    )

    async def ids(field: str, operator: str, value: Any) -> set[int]:
        return await _ids(segments, [{"field": field, "operator": operator, "value": value}])

    assert await ids("email", "=", "ann.smith@example.com") == {ann.id}
    assert await ids("email", "like", "SMITH") == {ann.id}
    assert await ids("email", "like", "%.org") == {eve.id}
    assert await ids("first_name", "=", "élodie") == {ann.id}
    assert await ids("first_name", "startsWith", "éL") == {ann.id}
    assert await ids("first_name", "regexp", "^él") == {ann.id}
    # contains/startsWith/endsWith take % and _ literally; like takes them as wildcards
    assert await ids("company", "contains", "0% S") == {ann.id}
    assert await ids("company", "contains", "e_c") == {ann.id}
    assert await ids("company", "like", "100_sure") == {eve.id}  # _ is one character
    assert await ids("company", "like", "100%sure%") == {ann.id, eve.id}
    assert await ids("company", "like", "100%sure") == set()  # with a %, the whole value


async def test_relative_dates_against_a_frozen_clock(
    container: CoreContainer, fields: None
) -> None:
    def at(iso: str) -> datetime:
        return datetime.fromisoformat(iso).astimezone(UTC)

    early, late, monday, old = await seed(
        container,
        [
            # 2024-03-15 (Friday) in New York runs from 04:00 UTC to 04:00 UTC the next day
            {
                "email": "early@x.io",
                "created_at": at("2024-03-15T03:59:59+00:00"),
                "fields": {"t_date": "1990-03-15"},
            },
            {
                "email": "late@x.io",
                "created_at": at("2024-03-16T03:30:00+00:00"),
                "fields": {"t_date": "2024-03-14"},
            },
            {
                "email": "monday@x.io",
                "created_at": at("2024-03-11T12:00:00+00:00"),
                "fields": {"t_date": "2024-03-11"},
            },
            {
                "email": "old@x.io",
                "created_at": at("2023-02-28T12:00:00+00:00"),
                "fields": {"t_date": "2024-02-15"},
            },
        ],
    )
    ny = make_service(container, NOW, "America/New_York")
    utc = make_service(container, NOW, "UTC")

    async def ids(service: SegmentService, field: str, operator: str, value: Any) -> set[int]:
        return await _ids(service, [{"field": field, "operator": operator, "value": value}])

    assert await ids(ny, "created_at", "=", "today") == {late.id}
    assert await ids(utc, "created_at", "=", "today") == {early.id}
    assert await ids(ny, "created_at", "=", "yesterday") == {early.id}
    assert await ids(utc, "created_at", "=", "this week") == {early.id, late.id, monday.id}
    assert await ids(ny, "created_at", "=", "this week") == {early.id, late.id, monday.id}
    assert await ids(utc, "created_at", "lt", "this year") == {old.id}
    assert await ids(utc, "created_at", "gt", "today") == {late.id}
    assert await ids(utc, "t_date", "=", "yesterday") == {late.id}
    assert await ids(utc, "t_date", "=", "-4 days") == {monday.id}
    assert await ids(utc, "t_date", "=", "4 days ago") == {monday.id}
    assert await ids(utc, "t_date", "=", "last month") == {old.id}
    assert await ids(utc, "t_date", "=", "-1 month") == {old.id}
    assert await ids(utc, "t_date", "=", "birthday") == {early.id}
    assert await ids(utc, "t_date", "between", ["-1 month", "-4 days"]) == {monday.id, old.id}
    assert await ids(utc, "t_date", "gte", "2024-03-11") == {late.id, monday.id}


# -- injection -----------------------------------------------------------------------------


async def test_injection_in_values_is_plain_data(
    container: CoreContainer, segments: SegmentService
) -> None:
    evil = "'; DROP TABLE contacts; --"
    bobby, _other = await seed(
        container,
        [
            {"email": "bobby@x.io", "last_name": evil, "fields": {"t_text": evil}, "tags": [evil]},
            {"email": "other@x.io", "last_name": "Tables"},
        ],
    )
    for field in ("last_name", "t_text"):
        for operator in ("=", "contains", "like", "startsWith", "regexp"):
            value = evil if operator != "regexp" else "DROP TABLE"
            got = await _ids(segments, [{"field": field, "operator": operator, "value": value}])
            assert got == {bobby.id}, (field, operator)
    assert await _ids(segments, [{"field": "tags", "operator": "in", "value": [evil]}]) == {
        bobby.id
    }
    assert (
        await segments.preview_count([{"field": "email", "operator": "=", "value": "x' OR '1'='1"}])
        == 0
    )
    assert await container.contact_service().count() == 2  # the table is still there


@pytest.mark.parametrize(
    "filter_",
    [
        {"field": "email) OR 1=1 --", "operator": "=", "value": "x"},
        {"field": "fields->>'x'", "operator": "=", "value": "x"},
        {"field": 'x"); DROP TABLE contacts; --', "operator": "=", "value": "x"},
        {"field": "email", "operator": "= 'x' OR 1=1 --", "value": "x"},
        {"field": "email", "operator": "=", "value": {"$ne": 1}},
    ],
)
async def test_injection_in_field_and_operator_names_is_refused(
    container: CoreContainer, segments: SegmentService, filter_: dict[str, Any]
) -> None:
    await seed(container, [{"email": "a@x.io"}])
    with pytest.raises(ValidationError):
        await segments.preview_count([filter_])
    assert await container.contact_service().count() == 1


# -- the dictionary and plugin filters -----------------------------------------------------

_plugin_meta = MetaData()
#: a plugin's own table (created by the test; a real plugin's migration would)
attendance = Table(
    "test_attendance",
    _plugin_meta,
    Column("contact_id", Integer, nullable=False),
    Column("minutes", Integer, nullable=False),
    Column("replay", Boolean, nullable=False),
)


class MinutesFilter(BaseSegmentFilter):
    key = "webinar.minutes"
    label = "Minutes attended (any webinar)"
    type = FilterType.NUMBER
    operators = ("gt", "lt", "empty", "!empty")

    @override
    def clause(
        self, contact_id: ColumnElement[int], operator: str, value: Any, context: FilterContext
    ) -> ColumnElement[bool]:
        rows = select(attendance.c.contact_id).where(attendance.c.contact_id == contact_id)
        if operator == "empty":
            return ~exists(rows)
        if operator == "!empty":
            return exists(rows)
        minutes = attendance.c.minutes
        return exists(rows.where(minutes > value if operator == "gt" else minutes < value))


class ReplayFilter(BaseSegmentFilter):
    key = "webinar.replay"
    label = "Watched a replay"
    type = FilterType.SELECT
    operators = ("=",)
    choices = ("yes", "no")

    @override
    def clause(
        self, contact_id: ColumnElement[int], operator: str, value: Any, context: FilterContext
    ) -> ColumnElement[bool]:
        watched = exists(
            select(attendance.c.contact_id).where(
                attendance.c.contact_id == contact_id, attendance.c.replay.is_(True)
            )
        )
        return watched if value == "yes" else ~watched


async def test_plugin_filters_join_the_dictionary_and_segments(
    container: CoreContainer, fields: None
) -> None:
    async with container.engine().begin() as conn:
        await conn.run_sync(_plugin_meta.create_all)
    try:
        a, b, c = await seed(
            container, [{"email": "a@x.io"}, {"email": "b@x.io"}, {"email": "c@x.io"}]
        )
        async with container.engine().begin() as conn:
            await conn.execute(
                attendance.insert(),
                [
                    {"contact_id": a.id, "minutes": 50, "replay": False},
                    {"contact_id": b.id, "minutes": 5, "replay": True},
                ],
            )
        service = SegmentService(container.session_factory(), plugin_filters=[MinutesFilter()])
        service.register_filter(ReplayFilter())
        listed = {f.key: f for f in await service.dictionary()}
        assert listed["webinar.minutes"].type is FilterType.NUMBER
        assert listed["webinar.minutes"].group == "plugins"
        assert listed["webinar.replay"].choices == ("yes", "no")
        assert listed["t_multi"].choices == ("red", "Green", "blue")
        assert listed["t_multi"].group == "custom" and listed["email"].group == "core"
        assert {"tags", "segment", "points", "created_at"} <= listed.keys()

        keen = await service.create(
            "Keen",
            filters=[
                {"field": "webinar.minutes", "operator": "gt", "value": 30},
                {"glue": "or", "field": "webinar.replay", "operator": "=", "value": "YES"},
            ],
        )
        assert keen.filters[1]["value"] == "yes"
        await service.rebuild(keen.alias)
        assert await member_ids(service, keen.alias) == {a.id, b.id}
        assert await service.preview_count([{"field": "webinar.minutes", "operator": "empty"}]) == 1
        assert c.id not in await member_ids(service, keen.alias)

        with pytest.raises(ValidationError, match=r"webinar\.minutes.*'between'"):
            await service.preview_count(
                [{"field": "webinar.minutes", "operator": "between", "value": [1, 2]}]
            )
        with pytest.raises(ValidationError, match="expected a number"):
            await service.preview_count(
                [{"field": "webinar.minutes", "operator": "gt", "value": "x"}]
            )
        # a segment saved with a plugin filter refuses to rebuild once the plugin is gone
        bare = SegmentService(container.session_factory())
        with pytest.raises(
            ValidationError, match=r"segment 'keen'.*unknown field 'webinar\.minutes'"
        ):
            await bare.rebuild(keen.alias)
    finally:
        async with container.engine().begin() as conn:
            await conn.run_sync(_plugin_meta.drop_all)


def test_plugin_filter_registration_is_checked() -> None:
    class Clash(MinutesFilter):
        key = "email"

    class Unnamespaced(MinutesFilter):
        key = "minutes"

    class Spaced(MinutesFilter):
        key = "webinar.Minutes Watched"

    class WrongOperator(MinutesFilter):
        key = "webinar.other"
        operators = ("gt", "contains")

    dictionary = FilterDictionary()
    dictionary.register(MinutesFilter())
    for bad, words in (
        (MinutesFilter(), "is taken"),
        (Clash(), "namespaced"),  # core keys are never namespaced
        (Unnamespaced(), "namespaced"),
        (Spaced(), "namespaced"),
        (WrongOperator(), "not contains"),
    ):
        with pytest.raises(ConfigurationError, match=words):
            dictionary.register(bad)
    with pytest.raises(ConfigurationError, match="is taken"):
        SegmentService(None, plugin_filters=[MinutesFilter(), MinutesFilter()])  # type: ignore[arg-type]


def test_unknown_timezone_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="Mars/Olympus"):
        SegmentService(None, timezone="Mars/Olympus")  # type: ignore[arg-type]
