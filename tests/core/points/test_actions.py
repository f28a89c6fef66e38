from __future__ import annotations

import pytest

from leadbridge import ConfigurationError, NotFoundError, ValidationError
from leadbridge.points import PointActionTypeRegistry, PointsService

from .conftest import Attended


async def test_create_list_get_and_update_an_action(points: PointsService) -> None:
    await points.create_group("webinars")
    made = await points.create_action(
        "Attended launch",
        "test.attended",
        25,
        settings={"event_id": "ev1", "min_rate": 50},
        group="webinars",
    )
    assert made.settings == {"event_id": "ev1", "min_rate": 50}
    assert (made.group, made.repeatable, made.published) == ("webinars", False, True)
    assert await points.get_action(made.id) == made
    assert [a.id for a in await points.list_actions(type="test.attended")] == [made.id]
    assert await points.list_actions(type="contact.created") == []

    changed = await points.update_action(
        made.id, delta=-5, settings={"min_rate": 10}, group=None, published=False
    )
    assert (changed.delta, changed.settings, changed.group, changed.published) == (
        -5,
        {"event_id": None, "min_rate": 10},
        None,
        False,
    )


async def test_settings_errors_name_the_setting_and_write_nothing(points: PointsService) -> None:
    with pytest.raises(ValidationError) as info:
        await points.create_action("Too keen", "test.attended", 5, settings={"min_rate": 101})
    assert str(info.value) == "settings.min_rate: Input should be less than or equal to 100"
    assert info.value.field == "settings.min_rate"

    with pytest.raises(ValidationError, match=r"settings\.colour: Extra inputs are not permitted"):
        await points.create_action("Extra", "test.attended", 5, settings={"colour": "red"})
    with pytest.raises(ValidationError, match=r"settings\.tag: Field required"):
        await points.create_action("No tag", "contact.tag_added", 5, settings={})
    with pytest.raises(ValidationError, match=r"settings\.field: Value error, expected a field"):
        await points.create_action(
            "Bad field", "contact.field_changed", 5, settings={"field": "Plan!", "value": "x"}
        )
    assert await points.list_actions() == []


async def test_bad_type_delta_name_or_group_is_refused(points: PointsService) -> None:
    with pytest.raises(ValidationError, match="unknown point action type 'nope'") as info:
        await points.create_action("X", "nope", 5)
    assert info.value.field == "type" and "contact.created" in str(info.value)
    for delta in (0, 1.5, True, 10_000_000):
        with pytest.raises(ValidationError) as bad:
            await points.create_action("X", "contact.created", delta)  # type: ignore[arg-type]
        assert bad.value.field == "delta"
    with pytest.raises(ValidationError) as blank:
        await points.create_action("  ", "contact.created", 1)
    assert blank.value.field == "name"
    with pytest.raises(NotFoundError, match="point group 'vip' does not exist"):
        await points.create_action("X", "contact.created", 1, group="vip")
    with pytest.raises(NotFoundError):
        await points.update_action(999, delta=3)
    assert await points.list_actions() == []


async def test_groups_are_unique_by_name(points: PointsService) -> None:
    from leadbridge import ConflictError

    await points.create_group("webinars", description="Livestorm")
    with pytest.raises(ConflictError, match="already exists"):
        await points.create_group("webinars")
    assert [(g.name, g.description) for g in await points.list_groups()] == [
        ("webinars", "Livestorm")
    ]


def test_registry_has_core_types_and_refuses_duplicate_keys() -> None:
    registry = PointActionTypeRegistry([Attended()])
    assert registry.keys() == [
        "contact.created",
        "contact.field_changed",
        "contact.tag_added",
        "test.attended",
    ]
    with pytest.raises(ConfigurationError, match=r"'test\.attended' is registered twice"):
        PointActionTypeRegistry([Attended(), Attended()])
    described = registry.get("test.attended").describe()
    assert described["label"] == "Attended a webinar"
    assert described["settings_schema"]["properties"]["min_rate"]["maximum"] == 100
