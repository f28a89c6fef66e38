"""After any sequence of operations, the change log adds up to every score."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from sqlalchemy import select

from leadbridge import ContactService, CoreContainer
from leadbridge.contacts import ContactRow
from leadbridge.points import PointChangeRow, PointsService

from .conftest import ledger, scores


@pytest.mark.parametrize("seed", [7, 42, 2026])
async def test_change_log_sums_to_every_total_and_group_score(
    seed: int, container: CoreContainer, points: PointsService, contacts: ContactService
) -> None:
    rng = random.Random(seed)
    groups = [None, "webinars", "emails"]
    for name in groups[1:]:
        await points.create_group(name)
    actions = []
    for i in range(6):
        actions.append(
            await points.create_action(
                f"a{i}",
                "test.attended",
                rng.choice([-7, -2, 1, 3, 10, 25]),
                settings={"min_rate": rng.choice([0, 50])},
                group=rng.choice(groups),
                repeatable=rng.random() < 0.5,
            )
        )
    await points.create_action("tagged", "contact.tag_added", 4, settings={"tag": "t1"})
    await points.create_action("created", "contact.created", 2)
    await points.create_trigger("t", 30, [{"type": "contact.add_tag", "settings": {"tag": "t1"}}])
    ids = [(await contacts.create(f"c{i}@x.io")).id for i in range(6)]
    ever_repeatable = {a.id for a in actions if a.repeatable}

    for step in range(60):
        op = rng.randrange(8)
        contact = rng.choice(ids)
        if op <= 1:
            await points.trigger("test.attended", contact, {"rate": rng.choice([10, 90])})
        elif op == 2:
            chosen = rng.sample(ids, rng.randint(1, len(ids)))
            await points.award_bulk(rng.choice(actions).id, chosen)
        elif op == 3:
            subset = select(ContactRow.id).where(ContactRow.points < rng.randint(-5, 40))
            await points.award_bulk("test.attended", subset, {"rate": 90})
        elif op == 4:
            delta = rng.choice([-9, -1, 2, 8])
            await points.adjust(contact, delta, f"step {step}", group=rng.choice(groups))
        elif op == 5:
            await contacts.tag(contact, rng.choice(["t1", "t2"]))
        elif op == 6:
            await contacts.untag(contact, "t1")
        else:
            action = rng.choice(actions)
            repeatable = rng.random() < 0.5
            if repeatable:
                ever_repeatable.add(action.id)
            await points.update_action(
                action.id, repeatable=repeatable, published=rng.random() < 0.8
            )
        if step == 30:
            await contacts.delete(ids.pop(0))
            ids.append((await contacts.create(f"late{seed}@x.io")).id)

    assert await ledger(container) == await scores(container)
    async with container.session_factory()() as session:
        rows = await session.execute(select(PointChangeRow.action_id, PointChangeRow.contact_id))
        awards = Counter((a, c) for a, c in rows.all() if a is not None)
    assert len(awards) > 10  # the sequence did award
    once_only = {a.id for a in actions} - ever_repeatable
    assert all(n == 1 for (action, _), n in awards.items() if action in once_only)
