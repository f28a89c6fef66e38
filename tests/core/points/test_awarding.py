from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from leadbridge import ContactService, CoreContainer, NotFoundError, ValidationError
from leadbridge.contacts import ContactRow
from leadbridge.points import (
    PointAwardRow,
    PointChangeRow,
    PointGroupScoreRow,
    PointsService,
    PointTriggerFireRow,
)

from .conftest import ledger


async def test_non_repeatable_action_awards_once_per_contact(
    points: PointsService, contacts: ContactService
) -> None:
    once = await points.create_action("Attended", "test.attended", 10)
    ann = await contacts.create("ann@x.io")
    bob = await contacts.create("bob@x.io")

    assert [a.id for a in await points.trigger("test.attended", ann.id, {"rate": 90})] == [once.id]
    assert await points.trigger("test.attended", ann.id, {"rate": 90}) == []
    await points.trigger("test.attended", bob.id, {"rate": 90})

    assert (await contacts.get(ann.id)).points == 10
    assert (await contacts.get(bob.id)).points == 10
    assert [c.delta for c in (await points.history(ann.id)).items] == [10]


async def test_repeatable_action_awards_every_time(
    points: PointsService, contacts: ContactService
) -> None:
    await points.create_action("Asked", "test.attended", 3, repeatable=True)
    ann = await contacts.create("ann@x.io")
    for _ in range(3):
        await points.trigger("test.attended", ann.id, {})
    assert (await contacts.get(ann.id)).points == 9
    assert [c.reason for c in (await points.history(ann.id)).items] == ["Asked"] * 3


async def test_only_published_actions_whose_settings_match_award(
    points: PointsService, contacts: ContactService
) -> None:
    await points.create_action("Any", "test.attended", 1, repeatable=True)
    await points.create_action("Keen", "test.attended", 10, settings={"min_rate": 80})
    await points.create_action("Launch", "test.attended", 100, settings={"event_id": "launch"})
    await points.create_action("Hidden", "test.attended", 1000, published=False)
    ann = await contacts.create("ann@x.io")

    awarded = await points.trigger("test.attended", ann.id, {"event_id": "other", "rate": 50})
    assert [a.name for a in awarded] == ["Any"]
    awarded = await points.trigger("test.attended", ann.id, {"event_id": "launch", "rate": 85})
    assert [a.name for a in awarded] == ["Any", "Keen", "Launch"]
    assert (await contacts.get(ann.id)).points == 1 + 1 + 10 + 100


async def test_negative_deltas_lower_the_total(
    points: PointsService, contacts: ContactService
) -> None:
    await points.create_action("Unsubscribed", "test.attended", -15, repeatable=True)
    ann = await contacts.create("ann@x.io")
    await points.adjust(ann.id, 5, "welcome")
    await points.trigger("test.attended", ann.id, {})
    await points.trigger("test.attended", ann.id, {})
    assert (await contacts.get(ann.id)).points == -25
    assert [c.delta for c in (await points.history(ann.id)).items] == [-15, -15, 5]


async def test_grouped_actions_score_the_group_not_the_total(
    points: PointsService, contacts: ContactService
) -> None:
    await points.create_group("webinars")
    await points.create_action("Webinar", "test.attended", 20, group="webinars", repeatable=True)
    await points.create_action("Engaged", "test.attended", 1, repeatable=True)
    ann = await contacts.create("ann@x.io")
    await points.trigger("test.attended", ann.id, {})
    await points.trigger("test.attended", ann.id, {})

    assert (await contacts.get(ann.id)).points == 2
    assert await points.group_scores(ann.id) == {"webinars": 40}
    assert await points.adjust(ann.id, -5, "correction", group="webinars") == 35
    assert await points.group_scores(ann.id) == {"webinars": 35}
    assert (await contacts.get(ann.id)).points == 2
    history = (await points.history(ann.id)).items
    assert [(c.group, c.delta) for c in history] == [
        ("webinars", -5),
        (None, 1),
        ("webinars", 20),
        (None, 1),
        ("webinars", 20),
    ]


async def test_racing_triggers_award_a_non_repeatable_action_once(
    container: CoreContainer, points: PointsService, contacts: ContactService, db_backend: str
) -> None:
    await points.create_action("Registered", "test.attended", 10)
    ann = await contacts.create("ann@x.io")
    factory = container.session_factory()
    racers = 4
    # PostgreSQL: every transaction is open and has read before any writes. (SQLite takes its
    # write lock at the first statement, so there the racers queue behind each other.)
    barrier = asyncio.Barrier(racers) if db_backend == "postgres" else None

    async def race() -> int:
        async with factory.begin() as session:
            await session.execute(select(ContactRow.id).where(ContactRow.id == ann.id))
            if barrier is not None:
                await barrier.wait()
            return len(await points.trigger("test.attended", ann.id, {}, session=session))

    results = await asyncio.gather(*(race() for _ in range(racers)))
    assert sorted(results) == [0] * (racers - 1) + [1]
    assert (await contacts.get(ann.id)).points == 10
    assert len((await points.history(ann.id)).items) == 1


async def test_an_award_rolls_back_with_its_transaction(
    container: CoreContainer, points: PointsService, contacts: ContactService
) -> None:
    await points.create_action("Registered", "test.attended", 10)
    ann = await contacts.create("ann@x.io")

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with container.session_factory().begin() as session:
            assert await points.trigger("test.attended", ann.id, {}, session=session)
            raise Boom
    assert (await contacts.get(ann.id)).points == 0
    # The award key rolled back too: the action can still award.
    assert await points.trigger("test.attended", ann.id, {})
    assert (await contacts.get(ann.id)).points == 10


async def test_bulk_award_is_set_based_and_idempotent_for_non_repeatable(
    container: CoreContainer, points: PointsService, contacts: ContactService
) -> None:
    once = await points.create_action("Attended", "test.attended", 7)
    ids = [(await contacts.create(f"c{i}@x.io")).id for i in range(5)]

    assert await points.award_bulk(once.id, [*ids[:3], ids[0], 999_999]) == {once.id: 3}
    assert await points.award_bulk(once.id, ids) == {once.id: 2}
    assert await points.award_bulk(once.id, ids) == {once.id: 0}
    assert [(await contacts.get(i)).points for i in ids] == [7] * 5

    # A SELECT of ids and a type key: every matching published action of the type.
    again = await points.create_action("Replay", "test.attended", 2, repeatable=True)
    await points.create_action("Keen", "test.attended", 50, settings={"min_rate": 90})
    chosen = select(ContactRow.id).where(ContactRow.email.in_(["c0@x.io", "c1@x.io"]))
    assert await points.award_bulk("test.attended", chosen, {"rate": 10}) == {
        once.id: 0,
        again.id: 2,
    }
    assert [(await contacts.get(i)).points for i in ids] == [9, 9, 7, 7, 7]
    assert await ledger(container) == {
        (i, None): p for i, p in zip(ids, [9, 9, 7, 7, 7], strict=True)
    }


async def test_bulk_award_of_an_unpublished_or_unknown_action(
    points: PointsService, contacts: ContactService
) -> None:
    hidden = await points.create_action("Hidden", "test.attended", 7, published=False)
    ann = await contacts.create("ann@x.io")
    assert await points.award_bulk(hidden.id, [ann.id]) == {}
    with pytest.raises(NotFoundError):
        await points.award_bulk(12345, [ann.id])
    with pytest.raises(ValidationError, match="unknown point action type"):
        await points.award_bulk("nope", [ann.id])


async def test_making_an_action_non_repeatable_keeps_past_awards(
    points: PointsService, contacts: ContactService
) -> None:
    action = await points.create_action("Visit", "test.attended", 1, repeatable=True)
    ann = await contacts.create("ann@x.io")
    bob = await contacts.create("bob@x.io")
    await points.trigger("test.attended", ann.id, {})
    await points.update_action(action.id, repeatable=False)
    assert await points.trigger("test.attended", ann.id, {}) == []
    assert len(await points.trigger("test.attended", bob.id, {})) == 1


async def test_adjust_and_history(points: PointsService, contacts: ContactService) -> None:
    ann = await contacts.create("ann@x.io")
    for i in range(1, 8):
        await points.adjust(ann.id, i, f"manual {i}")
    assert (await contacts.get(ann.id)).points == 28

    first = await points.history(ann.id, limit=3)
    assert [c.delta for c in first.items] == [7, 6, 5]
    assert first.items[0].action_id is None and first.items[0].reason == "manual 7"
    second = await points.history(ann.id, limit=3, before=first.next_before)
    third = await points.history(ann.id, limit=3, before=second.next_before)
    assert [c.delta for c in second.items + third.items] == [4, 3, 2, 1]
    assert third.next_before is None

    with pytest.raises(ValidationError) as info:
        await points.adjust(ann.id, 5, " ")
    assert info.value.field == "reason"
    with pytest.raises(NotFoundError):
        await points.adjust(999_999, 5, "x")
    with pytest.raises(NotFoundError):
        await points.history(999_999)
    await points.create_action("Created", "contact.created", 1)
    with pytest.raises(NotFoundError):
        await points.trigger("contact.created", 999_999, {})
    assert (await contacts.get(ann.id)).points == 28


async def test_deleting_a_contact_deletes_its_points_rows(
    container: CoreContainer, points: PointsService, contacts: ContactService
) -> None:
    await points.create_group("webinars")
    await points.create_action("Attended", "test.attended", 10)
    await points.create_trigger("Hot", 5, [{"type": "contact.add_tag", "settings": {"tag": "hot"}}])
    ann = await contacts.create("ann@x.io")
    bob = await contacts.create("bob@x.io")
    for contact in (ann, bob):
        await points.trigger("test.attended", contact.id, {})
        await points.adjust(contact.id, 3, "b", group="webinars")
    await contacts.delete(ann.id)

    async with container.session_factory()() as session:
        for table in (PointChangeRow, PointAwardRow, PointGroupScoreRow, PointTriggerFireRow):
            owners = set((await session.scalars(select(table.contact_id))).all())
            assert owners == {bob.id}, table.__tablename__
