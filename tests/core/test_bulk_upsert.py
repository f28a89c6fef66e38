from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from leadbridge import CoreContainer, ValidationError
from leadbridge.contacts import (
    ContactChangeRow,
    ContactRow,
    FieldSpec,
    FieldType,
    OnRowError,
    normalize_value,
)
from leadbridge.contacts._fields import converter
from leadbridge.events import ContactFieldChanged


async def _fields(container: CoreContainer) -> None:
    f = container.custom_field_service()
    await f.define("score", "number")
    await f.define("plan", "select", options=["free", "pro"])


async def test_bulk_upsert_ten_thousand(container: CoreContainer) -> None:
    await _fields(container)
    service = container.contact_service()
    rows = [
        {"email": f"user{i}@example.com", "first_name": f"U{i}", "score": i, "plan": "free"}
        for i in range(10_000)
    ]
    result = await service.bulk_upsert(rows)
    assert (result.created, result.updated, result.unchanged, result.errors) == (10_000, 0, 0, [])
    assert await service.count() == 10_000

    # Again with 100 changes and case-shifted emails: matched, not duplicated.
    rows2 = [
        {"email": f"USER{i}@example.com", "score": i + 1 if i % 100 == 0 else i}
        for i in range(10_000)
    ]
    result = await service.bulk_upsert(rows2, source="crm")
    assert (result.created, result.updated, result.unchanged) == (0, 100, 9_900)
    assert await service.count() == 10_000
    async with container.session_factory()() as session:
        crm_changes = await session.scalar(
            select(func.count())
            .select_from(ContactChangeRow)
            .where(ContactChangeRow.source == "crm")
        )
    assert crm_changes == 100
    assert (await service.get_by_email("user100@example.com")).fields["score"] == 101


async def test_bulk_upsert_skips_bad_rows_and_merges_duplicates(container: CoreContainer) -> None:
    await _fields(container)
    service = container.contact_service()
    result = await service.bulk_upsert(
        [
            {"email": "a@x.io", "first_name": "A"},
            {"email": "broken"},
            {"email": "b@x.io", "score": "many"},
            {"email": "A@X.io", "last_name": "Z", "tags": "new,vip"},
        ]
    )
    assert result.created == 1
    assert [(e.index, e.field) for e in result.errors] == [(1, "email"), (2, "score")]
    contact = await service.get_by_email("a@x.io")
    assert (contact.first_name, contact.last_name, contact.tags) == ("A", "Z", ("new", "vip"))


async def test_bulk_upsert_raise_mode_writes_nothing(container: CoreContainer) -> None:
    await _fields(container)
    service = container.contact_service()
    rows = [{"email": f"u{i}@x.io"} for i in range(2500)] + [{"email": "z@x.io", "plan": "gold"}]
    with pytest.raises(ValidationError, match=r"row 2501: plan"):
        await service.bulk_upsert(rows, on_error="raise")
    async with container.session_factory()() as session:
        assert await session.scalar(select(func.count()).select_from(ContactRow)) == 0


async def test_on_row_error_takes_the_enum_and_refuses_an_unknown_policy(
    container: CoreContainer,
) -> None:
    service = container.contact_service()
    unknown = r"on_error 'ignore' is unknown; use one of skip, raise"
    with pytest.raises(ValidationError, match=unknown):
        await service.bulk_upsert([{"email": "a@x.io"}], on_error="ignore")
    result = await service.bulk_upsert(
        [{"email": "a@x.io"}, {"email": "not an email"}], on_error=OnRowError.SKIP
    )
    assert [e.index for e in result.errors] == [1]
    with pytest.raises(ValidationError, match=r"row 2: "):
        rows = [{"email": "b@x.io"}, {"email": "nope"}]
        await service.bulk_upsert(rows, on_error=OnRowError.RAISE)
    async with container.session_factory()() as session:
        emails = (await session.scalars(select(ContactRow.email))).all()
    assert emails == ["a@x.io"]


async def test_bulk_update_logs_and_announces_each_real_change(container: CoreContainer) -> None:
    await _fields(container)
    service = container.contact_service()
    await service.bulk_upsert(
        [{"email": f"u{i}@x.io", "first_name": "Ann", "score": i, "plan": "free"} for i in range(3)]
    )
    heard: list[tuple[int, str, object, object, str]] = []

    async def on_change(event: ContactFieldChanged) -> None:
        heard.append((event.contact_id, event.field, event.old, event.new, event.source))

    container.event_bus().subscribe(ContactFieldChanged, on_change)
    ids = {c.email: c.id for c in (await service.list()).items}
    result = await service.bulk_upsert(
        [
            # same values, typed as a CSV would give them: no change
            {"email": "U0@X.IO", "first_name": " Ann ", "score": "0", "plan": "free"},
            {"email": "u1@x.io", "first_name": "Bob", "score": 1, "plan": "pro"},
            {"plan": "free", "score": "7.5", "email": "u2@x.io"},
        ],
        source="crm",
    )
    assert (result.created, result.updated, result.unchanged) == (0, 2, 1)
    assert sorted(heard) == sorted(
        [
            (ids["u1@x.io"], "first_name", "Ann", "Bob", "crm"),
            (ids["u1@x.io"], "plan", "free", "pro", "crm"),
            (ids["u2@x.io"], "score", 2, 7.5, "crm"),
        ]
    )
    async with container.session_factory()() as session:
        logged = (
            await session.execute(
                select(ContactChangeRow.contact_id, ContactChangeRow.field, ContactChangeRow.value)
                .where(ContactChangeRow.source == "crm")
                .order_by(ContactChangeRow.id)
            )
        ).all()
    assert sorted(logged) == sorted((cid, field, new) for cid, field, _old, new, _s in heard)
    assert (await service.get(ids["u2@x.io"])).fields == {"score": 7.5, "plan": "free"}


async def test_bulk_errors_are_the_same_in_uniform_and_mixed_batches(
    container: CoreContainer,
) -> None:
    """A batch of one shape is checked a column at a time; errors must not depend on it."""
    await _fields(container)
    service = container.contact_service()
    uniform = [{"email": f"u{i}@x.io", "score": str(i), "plan": "free"} for i in range(5)]
    uniform[3] = {"email": "u3@x.io", "score": "lots", "plan": "gold"}
    mixed = [*uniform[:4], {"email": "u4@x.io", "tags": "vip"}]
    for rows in (uniform, mixed):
        result = await service.bulk_upsert(rows, on_error="skip")
        assert [(e.index, e.email, e.field) for e in result.errors] == [(3, "u3@x.io", "score")]
        assert "'lots' is not a valid number" in result.errors[0].message
    refused = [{"email": "a@x.io", "id": 4}, {"email": "b@x.io", "points": 3, "nope": 1}]
    result = await service.bulk_upsert(refused)
    assert [(e.index, e.field, e.message) for e in result.errors] == [
        (0, "id", "id cannot be written directly"),
        (1, "points", "points cannot be written directly"),
    ]
    result = await service.bulk_upsert([{"email": "  "}, {"first_name": "No email"}])
    assert [(e.index, e.field, e.message) for e in result.errors] == [
        (0, "email", "email is required"),
        (1, "email", "email is required"),
    ]


_SPECS = [
    FieldSpec("t", "T", FieldType.TEXT, False, max_length=5),
    FieldSpec("e", "E", FieldType.EMAIL, True, max_length=320),
    FieldSpec("u", "U", FieldType.URL, False),
    FieldSpec("p", "P", FieldType.PHONE, False, max_length=64),
    FieldSpec("n", "N", FieldType.NUMBER, False),
    FieldSpec("b", "B", FieldType.BOOLEAN, False),
    FieldSpec("d", "D", FieldType.DATE, False),
    FieldSpec("dt", "DT", FieldType.DATETIME, False),
    FieldSpec("s", "S", FieldType.SELECT, False, options=("free", "pro")),
    FieldSpec("m", "M", FieldType.MULTISELECT, False, options=("a", "b")),
]
_SAMPLES = [
    None, "", "  ", "free", " pro ", "gold", "a,b", "abcdef", "x@y.io", "x@y", "https://a.io/p",
    "HTTPS://a.io", "http://[::1", "https://\t/", "ftp://a.io", "https://é.io", "0", "0123",
    "9007199254740993", "1_000", "-4", "4.50", "yes", " OFF ", "maybe", "2027-01-31",
    "2027-W01-1", "2027-02-30", "2027-01-31T10:00:00+02:00", "+33 1 23", 0, 1, 7, 2.5, True,
    False, float("nan"), ["a", "b"], {"a": 1},
]  # fmt: skip


@pytest.mark.parametrize("spec", _SPECS, ids=[s.type.value for s in _SPECS])
@given(value=st.sampled_from(_SAMPLES) | st.text(max_size=12) | st.integers())
def test_a_field_converter_is_normalize_value(spec: FieldSpec, value: object) -> None:
    """The bulk path's per-field converters answer exactly what ``normalize_value`` does."""
    convert = converter(spec)
    try:
        expected: object = normalize_value(spec, value)
    except ValidationError as exc:
        with pytest.raises(ValidationError) as caught:
            convert(value)
        assert (caught.value.message, caught.value.field) == (exc.message, exc.field)
    except ValueError:
        with pytest.raises(ValueError):  # urlsplit's own refusal, kept as it was
            convert(value)
    else:
        got = convert(value)
        assert (got, type(got)) == (expected, type(expected))


@pytest.mark.parametrize("count", [3, 300], ids=["statement", "copy"])
async def test_write_batch_refuses_a_taken_email_as_integrity_error(
    container: CoreContainer, count: int
) -> None:
    """A concurrent writer may take an email between the match and the write: the caller
    learns it as ``IntegrityError`` (and retries), whichever way the rows are written."""
    service = container.contact_service()
    await service.create("taken@x.io")
    creates = [{"email": f"n{i}@x.io"} for i in range(count - 1)] + [{"email": "taken@x.io"}]
    with pytest.raises(IntegrityError):
        async with container.session_factory().begin() as session:
            await service.write_batch(session, creates=creates, source="crm")
    assert await service.count() == 1
    # the same rows without the taken one go in, with their @created log rows
    async with container.session_factory().begin() as session:
        ids = await service.write_batch(session, creates=creates[:-1], source="crm")
    assert len(set(ids)) == count - 1 and await service.count() == count
    async with container.session_factory()() as session:
        logged = await session.scalar(
            select(func.count())
            .select_from(ContactChangeRow)
            .where(ContactChangeRow.source == "crm", ContactChangeRow.contact_id.in_(ids))
        )
    assert logged == count - 1
