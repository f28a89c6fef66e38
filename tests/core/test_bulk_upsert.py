from __future__ import annotations

import pytest
from sqlalchemy import func, select

from leadbridge import CoreContainer, ValidationError
from leadbridge.contacts import ContactChangeRow, ContactRow


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
