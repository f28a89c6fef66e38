"""Core's action types fire from contact events, inside the contact write's transaction."""

from __future__ import annotations

from leadbridge import ContactService, CoreContainer, CustomFieldService
from leadbridge.points import PointsService


async def test_contact_created_awards_points_shown_by_the_created_contact(
    points: PointsService, contacts: ContactService
) -> None:
    await points.create_action("New lead", "contact.created", 5)
    await points.create_action(
        "From Livestorm", "contact.created", 50, settings={"source": "livestorm"}
    )
    ann = await contacts.create("ann@x.io")
    assert ann.points == 5  # the returned contact already shows the award
    bob = await contacts.create("bob@x.io", source="livestorm")
    assert (await contacts.get(bob.id)).points == 55
    assert [c.reason for c in (await points.history(bob.id)).items] == [
        "From Livestorm",
        "New lead",
    ]


async def test_bulk_created_contacts_are_awarded(
    points: PointsService, contacts: ContactService
) -> None:
    await points.create_action("New lead", "contact.created", 5)
    result = await contacts.bulk_upsert([{"email": f"c{i}@x.io"} for i in range(30)])
    assert result.created == 30
    page = await contacts.list(limit=100)
    assert {c.points for c in page.items} == {5}
    # An update of known contacts creates nothing and awards nothing.
    await contacts.bulk_upsert([{"email": f"c{i}@x.io", "city": "Lyon"} for i in range(30)])
    assert {c.points for c in (await contacts.list(limit=100)).items} == {5}


async def test_field_changed_to_a_value(
    container: CoreContainer, points: PointsService, contacts: ContactService
) -> None:
    fields: CustomFieldService = container.custom_field_service()
    await fields.define("plan", "select", options=["free", "pro"])
    await points.create_action(
        "Upgraded", "contact.field_changed", 30, settings={"field": "plan", "value": "PRO"}
    )
    await points.create_action(
        "Moved to Lyon",
        "contact.field_changed",
        2,
        settings={"field": "city", "value": "lyon"},
        repeatable=True,
    )
    ann = await contacts.create("ann@x.io", fields={"plan": "free"})
    assert (await contacts.update(ann.id, {"plan": "free", "city": "Paris"})).points == 0
    updated = await contacts.update(ann.id, {"plan": "pro", "city": "Lyon"})
    assert updated.points == 32
    await contacts.update(ann.id, {"plan": "free", "city": "Paris"})
    assert (await contacts.update(ann.id, {"plan": "pro", "city": "Lyon"})).points == 34


async def test_tag_added(points: PointsService, contacts: ContactService) -> None:
    await points.create_action("VIP", "contact.tag_added", 40, settings={"tag": " VIP "})
    ann = await contacts.create("ann@x.io", tags=["lead"])
    assert (await contacts.get(ann.id)).points == 0
    assert (await contacts.tag(ann.id, "vip", "other")).points == 40
    bob = await contacts.create("bob@x.io", tags=["Vip"])
    assert (await contacts.get(bob.id)).points == 40


async def test_unsubscribe_stops_awarding_from_events(
    points: PointsService, contacts: ContactService
) -> None:
    await points.create_action("New lead", "contact.created", 5)
    points.unsubscribe()
    assert (await contacts.create("ann@x.io")).points == 0
    points.subscribe()
    assert (await contacts.create("bob@x.io")).points == 5
