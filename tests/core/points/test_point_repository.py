"""PointRepository: group scores of many contacts and the length of a contact's history."""

from __future__ import annotations

from leadbridge import CoreContainer
from leadbridge.points import GroupScore, PointRepository

REPO = PointRepository()


async def test_group_scores_by_contact_and_change_count(container: CoreContainer) -> None:
    contacts = container.contact_service()
    ann = (await contacts.create("ann@x.io")).id
    bob = (await contacts.create("bob@x.io")).id
    carl = (await contacts.create("carl@x.io")).id
    points = container.points_service()
    await points.create_group("webinars")
    await points.create_group("emails")
    await points.adjust(ann, 5, "attended", group="webinars")
    await points.adjust(ann, 2, "opened", group="emails")
    await points.adjust(ann, 1, "opened again", group="emails")
    await points.adjust(bob, -3, "bounced", group="emails")
    await points.adjust(carl, 4, "manual")  # the total only: no group score

    async with container.read_session_factory()() as session:
        scores = await REPO.group_scores_by_contact(session, [carl, bob, ann, 10**9])
        assert scores == {
            ann: [GroupScore("emails", 3), GroupScore("webinars", 5)],
            bob: [GroupScore("emails", -3)],
        }
        assert scores[ann] == [
            GroupScore(name, score)
            for name, score in sorted((await points.group_scores(ann)).items())
        ]
        assert await REPO.group_scores_by_contact(session, []) == {}
        history = await points.history(ann, limit=100)
        assert await REPO.change_count(session, ann) == len(history.items) >= 3
        assert await REPO.change_count(session, 10**9) == 0
