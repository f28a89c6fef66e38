from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from leadbridge import ConflictError, CoreContainer, NotFoundError, ValidationError
from leadbridge.segments import SegmentMemberRow, SegmentRebuilt, SegmentService

from .conftest import NOW, make_service, member_ids, seed

LYON = [{"field": "city", "operator": "=", "value": "Lyon"}]


async def _people(container: CoreContainer, n: int = 4, city: str = "Lyon") -> list[int]:
    people = await seed(
        container, [{"email": f"{city.lower()}{i}@x.io", "city": city} for i in range(n)]
    )
    return [p.id for p in people]


async def test_rebuild_adds_removes_and_records(
    container: CoreContainer, segments: SegmentService
) -> None:
    a, b, c = await _people(container, 3)
    segment = await segments.create("Lyon people", filters=LYON, description="from Lyon")
    assert segment.alias == "lyon-people" and segment.last_built_at is None

    first = await segments.rebuild("lyon-people")
    assert (first.added, first.removed, first.total) == (3, 0, 3)
    assert first.seconds > 0
    stored = await segments.get_by_alias("lyon-people")
    assert stored.member_count == 3 and stored.last_built_at == NOW
    assert stored.build_seconds is not None and stored.build_seconds >= 0

    await container.contact_service().update(b, {"city": "Paris"})
    d = (await seed(container, [{"email": "d@x.io", "city": "lyon"}]))[0].id
    assert await segments.count("lyon-people") == 3  # live, before the rebuild
    again = await segments.rebuild(segment.id)
    assert (again.added, again.removed, again.total) == (1, 1, 3)
    assert await member_ids(segments, "lyon-people") == {a, c, d}
    unchanged = await segments.rebuild("lyon-people")
    assert (unchanged.added, unchanged.removed, unchanged.total) == (0, 0, 3)


async def test_manual_additions_and_removals_survive_rebuilds(
    container: CoreContainer, segments: SegmentService
) -> None:
    a, b, c = await _people(container, 3)
    outsider = (await seed(container, [{"email": "o@x.io", "city": "Nice"}]))[0].id
    await segments.create("Lyon", alias="lyon", filters=LYON)
    await segments.rebuild("lyon")

    assert await segments.remove_contacts("lyon", [b]) == 1
    assert await segments.add_contacts("lyon", [outsider]) == 1
    assert await segments.add_contacts("lyon", [a]) == 0  # already a member: now pinned
    assert (await segments.get_by_alias("lyon")).member_count == 3
    assert await segments.count("lyon") == 3

    result = await segments.rebuild("lyon")
    assert (result.added, result.removed) == (0, 0)
    assert await member_ids(segments, "lyon") == {a, c, outsider}
    assert not await segments.is_member("lyon", b)
    assert await segments.is_member("lyon", outsider)

    # a pinned member stays when it stops matching; a non-pinned one goes
    await container.contact_service().update(a, {"city": "Paris"})
    await container.contact_service().update(c, {"city": "Paris"})
    result = await segments.rebuild("lyon")
    assert result.removed == 1
    assert await member_ids(segments, "lyon") == {a, outsider}

    # adding back a removed contact lifts the exclusion
    assert await segments.add_contacts("lyon", [b]) == 1
    await segments.rebuild("lyon")
    assert await member_ids(segments, "lyon") == {a, b, outsider}
    assert await segments.remove_contacts("lyon", [outsider, a]) == 2
    await segments.rebuild("lyon")
    assert await member_ids(segments, "lyon") == {b}


async def test_manual_changes_refuse_unknown_contacts_and_write_nothing(
    container: CoreContainer, segments: SegmentService
) -> None:
    (a,) = await _people(container, 1)
    await segments.create("Lyon", alias="lyon", filters=LYON)
    with pytest.raises(NotFoundError, match="987654"):
        await segments.add_contacts("lyon", [a, 987654])
    assert not await segments.is_member("lyon", a)
    with pytest.raises(NotFoundError, match="segment 'nope'"):
        await segments.add_contacts("nope", [a])
    with pytest.raises(ValidationError):
        await segments.add_contacts("lyon", ["1"])  # type: ignore[list-item]


async def test_segment_without_filters_holds_only_manual_members(
    container: CoreContainer, segments: SegmentService
) -> None:
    a, _b = await _people(container, 2)
    await segments.create("Hand picked", alias="picked")
    await segments.add_contacts("picked", [a])
    result = await segments.rebuild("picked")
    assert (result.added, result.removed, result.total) == (0, 0, 1)
    assert await segments.preview_count([]) == 0


async def test_members_page_by_id_and_segments_of_a_contact(
    container: CoreContainer, segments: SegmentService
) -> None:
    ids = await _people(container, 7)
    await segments.create("Lyon", alias="lyon", filters=LYON)
    await segments.create("Other", alias="other")
    await segments.rebuild("lyon")
    await segments.add_contacts("other", [ids[2]])

    page = await segments.members("lyon", limit=3)
    assert [c.id for c in page.items] == ids[:3] and page.next_after == ids[2]
    assert page.items[0].email == "lyon0@x.io" and page.items[0].city == "Lyon"
    page = await segments.members("lyon", limit=3, after=page.next_after)
    assert [c.id for c in page.items] == ids[3:6]
    page = await segments.members("lyon", limit=3, after=page.next_after)
    assert [c.id for c in page.items] == ids[6:] and page.next_after is None
    with pytest.raises(ValidationError, match="limit"):
        await segments.members("lyon", limit=0)

    assert [s.alias for s in await segments.segments_of(ids[2])] == ["lyon", "other"]
    assert [s.alias for s in await segments.segments_of(ids[3])] == ["lyon"]
    await segments.remove_contacts("lyon", [ids[2]])
    assert [s.alias for s in await segments.segments_of(ids[2])] == ["other"]


async def test_deleting_a_contact_deletes_its_memberships(
    container: CoreContainer, segments: SegmentService
) -> None:
    a, b = await _people(container, 2)
    await segments.create("Lyon", alias="lyon", filters=LYON)
    await segments.rebuild("lyon")
    await segments.add_contacts("lyon", [a])
    await container.contact_service().delete(a)
    async with container.session_factory()() as session:
        left = await session.scalar(
            select(func.count())
            .select_from(SegmentMemberRow)
            .where(SegmentMemberRow.contact_id == a)
        )
    assert left == 0
    assert await member_ids(segments, "lyon") == {b}


# -- segment references --------------------------------------------------------------------


def _in(*aliases: str) -> list[dict[str, object]]:
    return [{"field": "segment", "operator": "in", "value": list(aliases)}]


async def test_cycles_are_refused_at_save_time_naming_the_segments(
    segments: SegmentService,
) -> None:
    with pytest.raises(ValidationError, match="loop: selfish → selfish"):
        await segments.create("Selfish", filters=_in("selfish"))
    await segments.create("A", alias="a")
    await segments.create("B", alias="b", filters=_in("a"))
    await segments.create("C", alias="c", filters=[*LYON, {"glue": "or", **_in("b")[0]}])
    with pytest.raises(ValidationError) as info:
        await segments.update("a", filters=_in("c"))
    assert "a → c → b → a" in info.value.message
    assert info.value.field == "filters[0].value"
    assert (await segments.get_by_alias("a")).filters == []  # nothing written
    # a reference that closes no loop is fine
    await segments.update("a", filters=LYON)


async def test_referenced_segments_cannot_be_deleted_or_renamed(segments: SegmentService) -> None:
    await segments.create("Base", alias="base")
    await segments.create("Derived", alias="derived", filters=_in("base"))
    with pytest.raises(ConflictError, match="'base' is used by the filters of 'derived'"):
        await segments.delete("base")
    with pytest.raises(ConflictError, match="cannot be renamed"):
        await segments.update("base", alias="base2")
    await segments.update("derived", name="Derived!", alias="derived-2")
    await segments.delete("derived-2")
    await segments.update("base", alias="base2")
    await segments.delete("base2")
    assert await segments.list() == []
    with pytest.raises(NotFoundError):
        await segments.get_by_alias("base2")


async def test_rebuild_all_builds_referenced_segments_first(
    container: CoreContainer, segments: SegmentService
) -> None:
    lyon = await _people(container, 2)
    (paris,) = await _people(container, 1, city="Paris")
    # created first, so a plain id order would build it before what it refers to
    await segments.create("Everyone", alias="everyone")
    await segments.create("Lyon", alias="lyon", filters=LYON)
    await segments.create("Lyon or Paris", alias="lyon-or-paris", filters=[
        *_in("lyon"), {"glue": "or", "field": "city", "operator": "=", "value": "paris"}
    ])  # fmt: skip
    await segments.update("everyone", filters=[*_in("lyon-or-paris")])
    results = await segments.rebuild_all()
    assert [r.alias for r in results] == ["lyon", "lyon-or-paris", "everyone"]
    assert await member_ids(segments, "everyone") == {*lyon, paris}
    assert [r.total for r in results] == [2, 3, 3]


async def test_segment_filters_read_stored_membership(
    container: CoreContainer, segments: SegmentService
) -> None:
    a, b = await _people(container, 2)
    await segments.create("Lyon", alias="lyon", filters=LYON)
    await segments.create(
        "Not Lyon",
        alias="not-lyon",
        filters=[{"field": "segment", "operator": "!in", "value": ["lyon"]}],
    )
    assert await segments.preview_count(_in("lyon")) == 0  # not built yet
    await segments.rebuild("lyon")
    await segments.remove_contacts("lyon", [b])
    await segments.rebuild("not-lyon")
    assert await member_ids(segments, "not-lyon") == {b}
    assert a not in await member_ids(segments, "not-lyon")


# -- definitions ---------------------------------------------------------------------------


async def test_create_update_delete(container: CoreContainer, segments: SegmentService) -> None:
    first = await segments.create("Newsletter — Été", is_published=False)
    assert first.alias == "newsletter-ete" and not first.is_published
    with pytest.raises(ConflictError, match="already exists"):
        await segments.create("Newsletter Ete")
    with pytest.raises(ValidationError, match="alias"):
        await segments.create("X", alias="Bad Alias")
    with pytest.raises(ValidationError, match="name"):
        await segments.create("  ")
    later = make_service(container, NOW + timedelta(hours=1))
    changed = await later.update(first.id, name="Summer", description="hello", is_published=True)
    assert (changed.name, changed.description, changed.is_published) == ("Summer", "hello", True)
    assert changed.updated_at == NOW + timedelta(hours=1) and changed.created_at == NOW
    kept = await later.update("newsletter-ete", name="Summer 2")
    assert kept.description == "hello"
    assert [s.alias for s in await segments.list()] == ["newsletter-ete"]
    assert (await segments.get(first.id)).name == "Summer 2"
    await segments.delete(first.id)
    with pytest.raises(NotFoundError):
        await segments.get(first.id)


async def test_rebuild_publishes_an_event_inside_its_transaction(
    container: CoreContainer, segments: SegmentService
) -> None:
    await _people(container, 2)
    seen: list[tuple[str, int, int]] = []

    async def on_rebuilt(event: SegmentRebuilt) -> None:
        assert event.session is not None
        count = await event.session.scalar(
            select(func.count())
            .select_from(SegmentMemberRow)
            .where(SegmentMemberRow.segment_id == event.segment_id)
        )
        seen.append((event.alias, event.added, count))

    container.event_bus().subscribe(SegmentRebuilt, on_rebuilt)
    await segments.create("Lyon", alias="lyon", filters=LYON)
    await segments.rebuild("lyon")
    assert seen == [("lyon", 2, 2)]


async def test_container_provides_the_service(container: CoreContainer, fields: None) -> None:
    service = container.segment_service()
    assert service is container.segment_service()
    assert service.timezone == "UTC"
    await service.create("From the container", alias="c")
    assert [s.alias for s in await service.list()] == ["c"]
