from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from dependency_injector import providers
from sqlalchemy.ext.asyncio import AsyncSession

from leadbridge import (
    ConfigurationError,
    ContactService,
    CoreContainer,
    Settings,
    ValidationError,
    db,
    shutdown,
)
from leadbridge.points import PointsService, PointsThresholdReached, TriggerFired


def _tags(events: Sequence[str]) -> list[dict[str, object]]:
    return [{"type": "contact.add_tag", "settings": {"tag": t}} for t in events]


async def test_threshold_trigger_fires_exactly_once_and_tags(
    container: CoreContainer, points: PointsService, contacts: ContactService
) -> None:
    fired: list[TriggerFired] = []

    async def on_fired(event: TriggerFired) -> None:
        fired.append(event)

    container.event_bus().subscribe(TriggerFired, on_fired)
    await points.create_action("Visit", "test.attended", 4, repeatable=True)
    hot = await points.create_trigger("Hot lead", 10, _tags(["hot"]))
    ann = await contacts.create("ann@x.io")

    for _ in range(2):
        await points.trigger("test.attended", ann.id, {})
    assert (await contacts.get(ann.id)).tags == ()
    await points.trigger("test.attended", ann.id, {})  # 12 >= 10
    assert (await contacts.get(ann.id)).tags == ("hot",)
    await contacts.untag(ann.id, "hot")
    for _ in range(3):
        await points.trigger("test.attended", ann.id, {})  # still above: fired already
    await points.adjust(ann.id, -20, "reset")
    await points.adjust(ann.id, 30, "back up")
    assert (await contacts.get(ann.id)).tags == ()
    assert [(e.trigger_id, e.contact_ids) for e in fired] == [(hot.id, (ann.id,))]


async def test_trigger_events_feed_point_actions(
    points: PointsService, contacts: ContactService
) -> None:
    # A tag added by a trigger is a "tag added" like any other: it can award points in turn.
    await points.create_action("VIP bonus", "contact.tag_added", 100, settings={"tag": "vip"})
    await points.create_trigger("VIP", 10, _tags(["vip"]))
    ann = await contacts.create("ann@x.io")
    assert await points.adjust(ann.id, 10, "gift") == 110
    assert (await contacts.get(ann.id)).tags == ("vip",)


async def test_group_trigger_watches_the_group_score(
    points: PointsService, contacts: ContactService
) -> None:
    await points.create_group("webinars")
    await points.create_trigger("Webinar fan", 50, _tags(["fan"]), group="webinars")
    ann = await contacts.create("ann@x.io")
    await points.adjust(ann.id, 60, "total only")
    assert (await contacts.get(ann.id)).tags == ()
    await points.adjust(ann.id, 50, "webinars", group="webinars")
    assert (await contacts.get(ann.id)).tags == ("fan",)


async def test_bulk_award_fires_triggers_for_the_contacts_that_reach_them(
    points: PointsService, contacts: ContactService
) -> None:
    action = await points.create_action("Attended", "test.attended", 10)
    await points.create_trigger("Engaged", 15, _tags(["engaged"]))
    ids = [(await contacts.create(f"c{i}@x.io")).id for i in range(4)]
    await points.adjust(ids[0], 5, "head start")
    await points.adjust(ids[1], 5, "head start")
    await points.award_bulk(action.id, ids)
    assert [(await contacts.get(i)).tags for i in ids] == [("engaged",), ("engaged",), (), ()]


async def test_apply_to_existing_fires_for_contacts_already_there(
    points: PointsService, contacts: ContactService
) -> None:
    ann = await contacts.create("ann@x.io")
    bob = await contacts.create("bob@x.io")
    await points.adjust(ann.id, 20, "old points")
    await points.create_trigger("Old", 10, _tags(["old"]))
    assert (await contacts.get(ann.id)).tags == ()  # not applied to existing contacts
    await points.create_trigger("Old too", 10, _tags(["old-too"]), apply_to_existing=True)
    assert (await contacts.get(ann.id)).tags == ("old-too",)
    assert (await contacts.get(bob.id)).tags == ()


async def test_publish_event_reaches_plugins_in_the_same_transaction(
    container: CoreContainer, points: PointsService, contacts: ContactService
) -> None:
    seen: list[tuple[str, dict[str, object], tuple[int, ...], bool]] = []

    async def handle(event: PointsThresholdReached) -> None:
        seen.append((event.name, event.payload, event.contact_ids, event.session is not None))

    container.event_bus().subscribe(PointsThresholdReached, handle)
    await points.create_trigger(
        "Invite",
        5,
        [{"type": "event.publish", "settings": {"name": "invite", "payload": {"session": "s1"}}}],
    )
    ann = await contacts.create("ann@x.io")
    await points.adjust(ann.id, 5, "go")
    assert seen == [("invite", {"session": "s1"}, (ann.id,), True)]


async def test_trigger_validation_names_the_event_and_setting(points: PointsService) -> None:
    with pytest.raises(ValidationError) as info:
        await points.create_trigger("T", 10, [{"type": "contact.add_tag", "settings": {}}])
    assert str(info.value) == "events[0].settings.tag: Field required"
    with pytest.raises(ValidationError, match=r"events\[1\]\.type: unknown trigger event type"):
        await points.create_trigger("T", 10, [*_tags(["a"]), {"type": "nope"}])
    with pytest.raises(ValidationError, match="at least one event"):
        await points.create_trigger("T", 10, [])
    with pytest.raises(ValidationError, match="threshold"):
        await points.create_trigger("T", "10", _tags(["a"]))  # type: ignore[arg-type]
    assert await points.list_triggers() == []


async def test_list_and_get_triggers(points: PointsService) -> None:
    await points.create_group("webinars")
    made = await points.create_trigger(
        "Fan",
        50,
        [*_tags(["fan"]), {"type": "contact.remove_tag", "settings": {"tag": "cold"}}],
        group="webinars",
    )
    assert made.to_dict() | {"created_at": None} == {
        "id": made.id,
        "name": "Fan",
        "threshold": 50,
        "group": "webinars",
        "published": True,
        "events": [
            {"type": "contact.add_tag", "settings": {"tag": "fan"}},
            {"type": "contact.remove_tag", "settings": {"tag": "cold"}},
        ],
        "created_at": None,
    }
    assert await points.list_triggers() == [made]
    assert await points.get_trigger(made.id) == made


async def test_segment_events_need_segments_installed(
    fresh_database_url: str, tmp_path: Path
) -> None:
    engine = db.create_engine(fresh_database_url)
    try:
        await db.upgrade(engine, revision="points@head")  # core and points, no segments
    finally:
        await engine.dispose()
    settings = Settings(
        database_url=fresh_database_url,
        data_dir=tmp_path,
        secret_key=Fernet.generate_key().decode(),
    )
    c = CoreContainer(settings=providers.Object(settings))
    try:
        with pytest.raises(ConfigurationError, match="segments are not installed"):
            await c.points_service().create_trigger(
                "T", 10, [{"type": "segment.add", "settings": {"segment": "vip"}}]
            )
        assert await c.points_service().list_triggers() == []
    finally:
        await shutdown(c)


async def test_threshold_trigger_adds_to_and_removes_from_segments(
    container: CoreContainer, points: PointsService, contacts: ContactService
) -> None:
    segments = container.segment_service()
    await segments.create("VIP", alias="vip")
    await segments.create(
        "Lyon", alias="lyon", filters=[{"field": "city", "operator": "=", "value": "Lyon"}]
    )
    with pytest.raises(ValidationError, match="segment 'nope' does not exist") as info:
        await points.create_trigger(
            "T", 10, [{"type": "segment.add", "settings": {"segment": "nope"}}]
        )
    assert info.value.field == "events[0].settings.segment"
    await points.create_trigger(
        "VIP",
        10,
        [
            {"type": "segment.add", "settings": {"segment": "vip"}},
            {"type": "segment.remove", "settings": {"segment": "lyon"}},
        ],
    )
    await points.create_action("Visit", "test.attended", 6, repeatable=True)
    ann = await contacts.create("ann@x.io", city="Lyon")
    bob = await contacts.create("bob@x.io", city="Lyon")
    await segments.rebuild("lyon")
    assert (await segments.get_by_alias("lyon")).member_count == 2

    for _ in range(2):
        await points.trigger("test.attended", ann.id, {})  # 12 >= 10
    await points.trigger("test.attended", bob.id, {})  # 6

    assert await segments.is_member("vip", ann.id)
    assert not await segments.is_member("lyon", ann.id)
    assert [c.id for c in (await segments.members("lyon")).items] == [bob.id]
    assert (await segments.get_by_alias("vip")).member_count == 1
    assert (await segments.get_by_alias("lyon")).member_count == 1
    # Rebuilds keep the manual addition and respect the exclusion.
    await segments.rebuild_all()
    assert await segments.is_member("vip", ann.id)
    assert not await segments.is_member("lyon", ann.id)
    assert not await segments.is_member("vip", bob.id)


class _Recorder:
    """A SegmentMembership of its own (what leadbridge.segments hands over when wired)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, list[int]]] = []

    async def has_segment(self, session: AsyncSession, alias: str) -> bool:
        return alias == "vip"

    async def add_manually(self, session: AsyncSession, alias: str, ids: Sequence[int]) -> None:
        self.calls.append(("add", alias, list(ids)))

    async def remove_manually(self, session: AsyncSession, alias: str, ids: Sequence[int]) -> None:
        self.calls.append(("remove", alias, list(ids)))


async def test_segment_membership_can_be_handed_in(container: CoreContainer) -> None:
    recorder = _Recorder()
    points = PointsService(
        container.session_factory(), container.event_bus(), segment_membership=recorder
    )
    try:
        contacts = container.contact_service()
        await points.create_trigger(
            "VIP", 3, [{"type": "segment.add", "settings": {"segment": "vip"}}]
        )
        ann = await contacts.create("ann@x.io")
        await points.adjust(ann.id, 3, "go")
        await points.adjust(ann.id, 3, "again")
        assert recorder.calls == [("add", "vip", [ann.id])]
    finally:
        points.unsubscribe()


async def test_unpublished_triggers_do_not_fire(
    points: PointsService, contacts: ContactService
) -> None:
    await points.create_trigger("Off", 1, _tags(["off"]), published=False)
    ann = await contacts.create("ann@x.io")
    await points.adjust(ann.id, 5, "x")
    assert (await contacts.get(ann.id)).tags == ()
