from __future__ import annotations

import itertools

import pytest
from sqlalchemy import text

from leadbridge import CoreContainer, FieldType, ValidationError
from leadbridge.integrations import (
    TYPE_COMPATIBILITY,
    Direction,
    FieldMapping,
    IntegrationSettingsService,
    types_compatible,
)

IN, OUT, BOTH = Direction.TO_INTERNAL, Direction.TO_INTEGRATION, Direction.BIDIRECTIONAL
EMAIL = FieldMapping("email", "email", BOTH)


@pytest.fixture
async def custom_fields(container: CoreContainer) -> None:
    fields = container.custom_field_service()
    await fields.define("score", "number")
    await fields.define("newsletter", "boolean")
    await fields.define("plan", "select", options=["free", "pro"])
    await fields.define("interests", "multiselect", options=["a", "b"])
    await fields.define("birthday", "date")


async def test_mapping_is_stored_in_the_documented_shape(
    container: CoreContainer, service: IntegrationSettingsService, custom_fields: None
) -> None:
    mappings = [
        EMAIL,
        FieldMapping("first_name", "firstName", OUT),
        FieldMapping("company", "website", OUT),  # text-like types are interchangeable
        FieldMapping("score", "score", IN),
        FieldMapping("newsletter", "vip", BOTH),
        FieldMapping("birthday", "last_seen_at", IN),  # date <- datetime
        FieldMapping("plan", "plan", BOTH),
        FieldMapping("interests", "interests", BOTH),
    ]
    # Read back in the order the integration declares its fields, whatever the order given.
    saved = await service.set_mapping("example", "people", mappings[::-1])
    assert saved.mappings["people"] == mappings
    assert (await service.get("example")).mappings["people"] == mappings
    async with container.engine().connect() as conn:
        raw = await conn.scalar(text("SELECT mappings FROM integrations"))
    doc = raw if isinstance(raw, dict) else __import__("json").loads(raw)
    assert doc["people"]["email"] == {"internal_field": "email", "direction": "bidirectional"}
    assert doc["people"]["score"] == {"internal_field": "score", "direction": "to_internal"}
    assert len(doc["people"]) == len(mappings)

    # Replacing one object's mapping keeps the others.
    leads = [EMAIL, FieldMapping("company", "source", BOTH)]
    await service.set_mapping("example", "leads", leads)
    stored = await service.get("example")
    assert stored.mappings == {"people": mappings, "leads": leads}


@pytest.mark.parametrize(
    ("object_name", "mappings", "field", "message"),
    [
        ("companies", [EMAIL], "object", "example has no object 'companies'"),
        ("people", [EMAIL, FieldMapping("shoe_size", "website")], "shoe_size", "internal field"),
        ("people", [EMAIL, FieldMapping("city", "town")], "town", "has no field 'town'"),
        ("people", [EMAIL, FieldMapping("score", "score", OUT)], "score", "read-only"),
        ("people", [EMAIL, FieldMapping("score", "score", BOTH)], "score", "read-only"),
        ("people", [FieldMapping("first_name", "firstName")], "email", "requires field 'email'"),
        ("leads", [EMAIL], "source", "requires field 'source'"),
        ("people", [EMAIL, FieldMapping("newsletter", "birthday")], "birthday", "incompatible"),
        ("people", [EMAIL, FieldMapping("score", "vip")], "vip", "incompatible types"),
        ("people", [EMAIL, FieldMapping("plan", "interests")], "interests", "incompatible"),
        ("people", [EMAIL, FieldMapping("city", "email")], "email", "mapped twice"),
        (
            "people",
            [EMAIL, FieldMapping("city", "firstName", IN), FieldMapping("city", "last_name")],
            "city",
            "written by both",
        ),
    ],
)
async def test_bad_mappings_are_refused_by_field(
    service: IntegrationSettingsService,
    custom_fields: None,
    object_name: str,
    mappings: list[FieldMapping],
    field: str,
    message: str,
) -> None:
    with pytest.raises(ValidationError, match=message) as info:
        await service.set_mapping("example", object_name, mappings)
    assert info.value.field == field
    assert (await service.get("example")).configured is False


def test_unknown_direction_is_refused() -> None:
    with pytest.raises(ValidationError, match="direction 'sideways'") as info:
        FieldMapping("email", "email", "sideways")  # type: ignore[arg-type]
    assert info.value.field == "email"


async def test_several_objects_are_saved_all_or_nothing(
    service: IntegrationSettingsService,
) -> None:
    with pytest.raises(ValidationError, match="source"):
        await service.set_mappings("example", {"people": [EMAIL], "leads": [EMAIL]})
    assert (await service.get("example")).configured is False


async def test_default_mapping_follows_custom_fields(
    service: IntegrationSettingsService, custom_fields: None
) -> None:
    proposed = {
        (m.internal_field, m.integration_field, m.direction)
        for m in (await service.default_mapping("example"))["people"]
    }
    assert {
        ("email", "email", BOTH),
        ("first_name", "firstName", BOTH),
        ("score", "score", IN),  # read-only: the widest direction it allows
        ("plan", "plan", BOTH),
        ("interests", "interests", BOTH),
        ("birthday", "birthday", BOTH),
    } <= proposed
    assert not any(i == "newsletter" for i, _, _ in proposed)


def test_type_compatibility_table() -> None:
    assert types_compatible(FieldType.TEXT, FieldType.EMAIL)
    assert types_compatible(FieldType.NUMBER, FieldType.TEXT)
    assert types_compatible(FieldType.DATE, FieldType.DATETIME)
    assert types_compatible(FieldType.SELECT, FieldType.TEXT)
    assert not types_compatible(FieldType.BOOLEAN, FieldType.DATE)
    assert not types_compatible(FieldType.NUMBER, FieldType.BOOLEAN)
    assert not types_compatible(FieldType.MULTISELECT, FieldType.SELECT)
    for a, b in itertools.product(FieldType, repeat=2):
        assert (b in TYPE_COMPATIBILITY[a]) == (a in TYPE_COMPATIBILITY[b])  # symmetric
        if a == b:
            assert types_compatible(a, b)
