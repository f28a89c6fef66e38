from __future__ import annotations

import pytest
from sqlalchemy import func, select

from leadbridge import ConflictError, CoreContainer, NotFoundError, ValidationError
from leadbridge.contacts import CONTACT_CREATED, ContactChangeRow, ContactRow


async def count(container: CoreContainer, model: type) -> int:
    async with container.session_factory()() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_create_get_update_delete(container: CoreContainer) -> None:
    service = container.contact_service()
    created = await service.create(
        "ann@example.com", first_name="Ann", company="Acme", tags=["VIP"]
    )
    assert created.id > 0
    assert created.tags == ("vip",)
    assert (await service.get(created.id)).company == "Acme"
    assert (await service.get_by_email("ANN@example.com")).id == created.id

    updated = await service.update(created.id, {"last_name": "Lee", "company": ""})
    assert updated.last_name == "Lee"
    assert updated.company is None  # an empty value is stored as no value
    assert updated.first_name == "Ann"  # partial update leaves other fields alone
    assert updated.updated_at >= created.updated_at

    await service.delete(created.id)
    with pytest.raises(NotFoundError):
        await service.get(created.id)


async def test_email_uniqueness_is_case_insensitive(container: CoreContainer) -> None:
    service = container.contact_service()
    await service.create("A@x.io")
    with pytest.raises(ConflictError) as info:
        await service.create("a@x.io")
    assert "a@x.io" in str(info.value)
    assert await count(container, ContactRow) == 1


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "two@@x.io", ""])
async def test_invalid_email_refused_and_nothing_written(
    container: CoreContainer, email: str
) -> None:
    with pytest.raises(ValidationError) as info:
        await container.contact_service().create(email)
    assert info.value.field == "email"
    assert await count(container, ContactRow) == 0
    assert await count(container, ContactChangeRow) == 0


async def test_unknown_field_named(container: CoreContainer) -> None:
    with pytest.raises(ValidationError, match="unknown field 'shoe_size'"):
        await container.contact_service().create("a@x.io", fields={"shoe_size": 42})


async def test_custom_field_typing(container: CoreContainer) -> None:
    fields = container.custom_field_service()
    await fields.define("employees", "number")
    await fields.define("renewal", "date")
    await fields.define("seen", "datetime")
    await fields.define("newsletter", "boolean")
    await fields.define("plan", "select", options=["free", "pro"])
    await fields.define("topics", "multiselect", options=["a", "b", "c"])
    await fields.define("site", "url")
    service = container.contact_service()

    with pytest.raises(ValidationError) as info:
        await service.create("a@x.io", fields={"employees": "abc"})
    assert info.value.field == "employees" and "abc" in str(info.value)
    with pytest.raises(ValidationError, match="renewal"):
        await service.create("a@x.io", fields={"renewal": "31/31/2020"})
    with pytest.raises(ValidationError, match="plan"):
        await service.create("a@x.io", fields={"plan": "enterprise"})
    with pytest.raises(ValidationError, match="site"):
        await service.create("a@x.io", fields={"site": "ftp:/nope"})

    contact = await service.create(
        "a@x.io",
        fields={
            "employees": "1200",
            "renewal": "2027-03-01",
            "seen": "2026-01-02T03:04:05+02:00",
            "newsletter": "yes",
            "plan": "pro",
            "topics": "b,a,b",
            "site": "https://acme.test",
        },
    )
    assert contact.fields == {
        "employees": 1200,
        "renewal": "2027-03-01",
        "seen": "2026-01-02T01:04:05Z",
        "newsletter": True,
        "plan": "pro",
        "topics": ["b", "a"],
        "site": "https://acme.test",
    }
    cleared = await service.update(contact.id, {"topics": [], "employees": None})
    assert "topics" not in cleared.fields and "employees" not in cleared.fields


async def test_required_custom_field(container: CoreContainer) -> None:
    await container.custom_field_service().define("region", "text", is_required=True)
    service = container.contact_service()
    with pytest.raises(ValidationError, match="region is required"):
        await service.create("a@x.io")
    contact = await service.create("a@x.io", fields={"region": "EU"})
    with pytest.raises(ValidationError, match="region is required"):
        await service.update(contact.id, {"region": ""})
    assert (await service.get(contact.id)).fields["region"] == "EU"


async def test_custom_field_definition_errors(container: CoreContainer) -> None:
    fields = container.custom_field_service()
    with pytest.raises(ValidationError, match="taken by a core field"):
        await fields.define("email", "text")
    with pytest.raises(ValidationError, match="needs options"):
        await fields.define("plan", "select")
    with pytest.raises(ValidationError, match="unknown"):
        await fields.define("plan", "colour")
    await fields.define("plan", "text")
    with pytest.raises(ConflictError):
        await fields.define("plan", "text")


async def test_change_log_rows_only_for_real_changes(container: CoreContainer) -> None:
    service = container.contact_service()
    contact = await service.create("a@x.io", first_name="Ann")
    await service.update(contact.id, {"first_name": "Ann"})  # no change
    await service.update(contact.id, {"first_name": "Anna", "city": "Oslo"})
    async with container.session_factory()() as session:
        rows = (await session.scalars(select(ContactChangeRow).order_by(ContactChangeRow.id))).all()
    assert [(r.field, r.value, r.source) for r in rows] == [
        (CONTACT_CREATED, None, "internal"),
        ("first_name", "Anna", "internal"),
        ("city", "Oslo", "internal"),
    ]
    assert rows[0].id < rows[1].id < rows[2].id


async def test_failed_update_leaves_neither_change_nor_log(container: CoreContainer) -> None:
    service = container.contact_service()
    await service.create("b@x.io")
    contact = await service.create("a@x.io", first_name="Ann")
    before = await count(container, ContactChangeRow)
    # first_name is valid, email collides: the whole update must roll back
    with pytest.raises(ConflictError):
        await service.update(contact.id, {"first_name": "Zed", "email": "B@x.io"})
    assert (await service.get(contact.id)).first_name == "Ann"
    assert await count(container, ContactChangeRow) == before


async def test_tags(container: CoreContainer) -> None:
    service = container.contact_service()
    contact = await service.create("a@x.io")
    await service.tag(contact.id, "Webinar", "vip")
    await service.tag(contact.id, "vip")
    assert (await service.get(contact.id)).tags == ("vip", "webinar")
    assert [c.id for c in (await service.list(tag="VIP")).items] == [contact.id]
    await service.untag(contact.id, "vip")
    assert (await service.get(contact.id)).tags == ("webinar",)


async def test_keyset_pagination_walks_everything_once(container: CoreContainer) -> None:
    service = container.contact_service()
    await service.bulk_upsert({"email": f"p{i}@x.io"} for i in range(25))
    seen: list[int] = []
    after = None
    while True:
        page = await service.list(limit=10, after=after)
        seen.extend(c.id for c in page.items)
        if page.next_after is None:
            break
        after = page.next_after
    assert len(seen) == 25 == len(set(seen))
    assert seen == sorted(seen)
