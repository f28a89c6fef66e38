"""SegmentRepository: segment pages, counts, batches by id and the segments of many contacts."""

from __future__ import annotations

from leadbridge import CoreContainer
from leadbridge.segments import SegmentRepository

REPO = SegmentRepository()


async def test_pages_counts_batches_and_memberships(container: CoreContainer) -> None:
    service = container.segment_service()
    contacts = container.contact_service()
    ann = (await contacts.create("ann@x.io")).id
    bob = (await contacts.create("bob@x.io")).id
    made = [await service.create(f"Segment {n}", alias=f"s{n}") for n in range(5)]
    await service.add_contacts("s3", [ann, bob])
    await service.add_contacts("s1", [ann])
    await service.add_contacts("s4", [bob])
    await service.remove_contacts("s4", [bob])  # an exclusion, not a membership

    async with container.read_session_factory()() as session:
        first, more = await REPO.page(session, limit=2)
        assert [s.alias for s in first] == ["s0", "s1"] and more
        rest, more = await REPO.page(session, limit=3, after=first[-1].id)
        assert [s.alias for s in rest] == ["s2", "s3", "s4"] and not more
        assert await REPO.page(session, after=rest[-1].id) == ([], False)
        assert await REPO.count(session) == 5

        found = await REPO.by_ids(session, [made[2].id, 10**9, made[2].id])
        assert list(found) == [made[2].id]
        assert found[made[2].id] == await service.get(made[2].id)

        by_contact = await REPO.by_contact(session, [bob, ann, 10**9])
        assert {c: [s.alias for s in segments] for c, segments in by_contact.items()} == {
            ann: ["s1", "s3"],
            bob: ["s3"],
        }
        assert by_contact[ann][1].member_count == 2

        assert await REPO.by_ids(session, []) == {}
        assert await REPO.by_contact(session, []) == {}


async def test_memberships_of_more_contacts_than_a_statement_binds(
    container: CoreContainer,
) -> None:
    rows = [{"email": f"p{n}@x.io"} for n in range(2500)]
    ids = list((await container.contact_service().bulk_upsert(rows)).ids.values())
    service = container.segment_service()
    await service.create("Everyone", alias="everyone")
    await service.add_contacts("everyone", ids)
    async with container.read_session_factory()() as session:
        found = await REPO.by_contact(session, ids)
    assert len(found) == 2500
    assert {s.alias for segments in found.values() for s in segments} == {"everyone"}
