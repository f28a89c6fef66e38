"""ContactRepository: the set-based contact reads the gateway and ContactService.list share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, update

from leadbridge import CoreContainer
from leadbridge.contacts import (
    ContactKeyset,
    ContactQuery,
    ContactRepository,
    ContactRow,
    ContactSort,
)

REPO = ContactRepository()


@contextmanager
def statements(container: CoreContainer) -> Iterator[list[str]]:
    """The SELECT statements run on the container's engine inside the block."""
    seen: list[str] = []
    engine = container.engine().sync_engine

    def record(*args: object) -> None:
        if str(args[2]).lstrip().upper().startswith("SELECT"):
            seen.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def _people(container: CoreContainer) -> dict[str, int]:
    """Five contacts with distinct points, names, tags and update times; ids by email."""
    service = container.contact_service()
    rows = [
        {"email": "Ann@x.io", "first_name": "Ann", "company": "Acme", "tags": ["vip", "b2b"]},
        {"email": "bob@x.io", "first_name": "Bob", "company": "50%_off"},
        {"email": "carl@x.io", "first_name": "Carl", "last_name": "Acmeson", "tags": ["vip"]},
        {"email": "dora@y.io", "first_name": "Dora"},
        {"email": "eve@y.io", "first_name": "Eve", "tags": ["B2B"]},
    ]
    ids = (await service.bulk_upsert(rows)).ids
    points = {"ann@x.io": 30, "bob@x.io": 10, "carl@x.io": 30, "dora@y.io": -5, "eve@y.io": 0}
    base = datetime(2026, 1, 1, tzinfo=UTC)
    async with container.session_factory().begin() as session:
        for n, (key, value) in enumerate(points.items()):
            await session.execute(
                update(ContactRow)
                .where(ContactRow.id == ids[key])
                .values(points=value, updated_at=base + timedelta(days=n))
            )
    return ids


async def _all(
    container: CoreContainer,
    query: ContactQuery,
    sort: ContactSort,
    descending: bool,
    limit: int,
) -> list[str]:
    """Every email the query matches, read a page of ``limit`` at a time."""
    emails: list[str] = []
    after: ContactKeyset | None = None
    async with container.read_session_factory()() as session:
        while True:
            page, more = await REPO.page(
                session, query, sort=sort, descending=descending, limit=limit, after=after
            )
            emails += [c.email for c in page]
            if not more:
                return emails
            assert len(page) == limit
            after = sort.keyset(page[-1])


@pytest.mark.parametrize("limit", [1, 2, 5, 6])
@pytest.mark.parametrize("descending", [False, True])
async def test_pages_in_every_order_join_up_to_the_whole_order(
    container: CoreContainer, limit: int, descending: bool
) -> None:
    ids = await _people(container)
    by_id = sorted(ids, key=ids.__getitem__)
    expected = {
        ContactSort.ID: by_id,
        # ties (ann and carl have 30) are broken by id
        ContactSort.POINTS: sorted(
            ids,
            key=lambda e: (
                {"ann@x.io": 30, "bob@x.io": 10, "carl@x.io": 30, "dora@y.io": -5}.get(e, 0),
                ids[e],
            ),
        ),
        ContactSort.EMAIL: sorted(ids),
        ContactSort.UPDATED_AT: ["ann@x.io", "bob@x.io", "carl@x.io", "dora@y.io", "eve@y.io"],
        ContactSort.CREATED_AT: by_id,  # written in one batch, one instant: ties by id
    }
    for sort, keys in expected.items():
        got = await _all(container, ContactQuery(), sort, descending, limit)
        want = list(reversed(keys)) if descending else keys
        assert [e.lower() for e in got] == want, sort


async def test_filters_combine(container: CoreContainer) -> None:
    ids = await _people(container)
    service = container.segment_service()
    await service.create("Friends", alias="friends")
    await service.add_contacts("friends", [ids["ann@x.io"], ids["dora@y.io"], ids["eve@y.io"]])
    await service.remove_contacts("friends", [ids["eve@y.io"]])

    async def emails(query: ContactQuery) -> list[str]:
        async with container.read_session_factory()() as session:
            page, more = await REPO.page(session, query, limit=100)
            assert not more
            assert await REPO.count(session, query) == len(page)
        return [c.email.lower() for c in page]

    assert await emails(ContactQuery(email="ANN@X.IO")) == ["ann@x.io"]
    assert await emails(ContactQuery(search=" acme ")) == ["ann@x.io", "carl@x.io"]
    # LIKE wildcards in the text are plain characters
    assert await emails(ContactQuery(search="50%_")) == ["bob@x.io"]
    assert await emails(ContactQuery(search="%")) == ["bob@x.io"]
    assert await emails(ContactQuery(tag=" VIP ")) == ["ann@x.io", "carl@x.io"]
    assert await emails(ContactQuery(tag="nobody")) == []
    # a manual removal is not a membership
    assert await emails(ContactQuery(segment="friends")) == ["ann@x.io", "dora@y.io"]
    assert await emails(ContactQuery(segment="unknown")) == []
    assert await emails(ContactQuery(points_min=0, points_max=10)) == ["bob@x.io", "eve@y.io"]
    since = datetime(2026, 1, 4, tzinfo=UTC)
    assert await emails(ContactQuery(updated_since=since)) == ["dora@y.io", "eve@y.io"]
    assert await emails(ContactQuery(tag="b2b", points_min=1)) == ["ann@x.io"]
    assert await emails(ContactQuery()) == sorted(ids, key=ids.__getitem__)


async def test_keyset_after_the_last_or_an_unknown_contact(container: CoreContainer) -> None:
    ids = await _people(container)
    async with container.read_session_factory()() as session:
        page, more = await REPO.page(session, limit=5)
        assert len(page) == 5 and not more  # exactly a page: nothing follows
        last = ContactSort.ID.keyset(page[-1])
        assert await REPO.page(session, after=last) == ([], False)
        # a cursor between rows (its contact deleted since) continues after its position
        gap = ContactKeyset(25, ids["bob@x.io"] - 1)
        rest, _ = await REPO.page(session, sort=ContactSort.POINTS, descending=True, after=gap)
        assert [c.email for c in rest] == ["bob@x.io", "eve@y.io", "dora@y.io"]


async def test_tags_only_when_asked_and_batches_by_id_and_email(
    container: CoreContainer,
) -> None:
    ids = await _people(container)
    async with container.read_session_factory()() as session:
        with statements(container) as plain:
            page, _ = await REPO.page(session, limit=2)
        assert len(plain) == 1 and all(c.tags == () for c in page)
        with statements(container) as tagged:
            page, _ = await REPO.page(session, limit=2, with_tags=True)
        assert len(tagged) == 2
        assert [c.tags for c in page] == [("b2b", "vip"), ()]

        found = await REPO.by_ids(session, [ids["carl@x.io"], 10**12, ids["carl@x.io"]])
        assert list(found) == [ids["carl@x.io"]] and found[ids["carl@x.io"]].tags == ()
        found = await REPO.by_ids(session, [ids["carl@x.io"]], with_tags=True)
        assert found[ids["carl@x.io"]].tags == ("vip",)

        by_email = await REPO.by_emails(session, ["ANN@x.io", "nobody@x.io"], with_tags=True)
        assert list(by_email) == ["ann@x.io"]
        assert by_email["ann@x.io"].email == "Ann@x.io"  # as written; keyed ignoring case
        assert by_email["ann@x.io"].tags == ("b2b", "vip")
        assert await REPO.tags_by_contact(session, [ids["eve@y.io"], ids["dora@y.io"]]) == {
            ids["eve@y.io"]: ["b2b"]
        }


async def test_empty_batches_read_nothing(container: CoreContainer) -> None:
    async with container.read_session_factory()() as session:
        with statements(container) as seen:
            assert await REPO.by_ids(session, []) == {}
            assert await REPO.by_emails(session, []) == {}
            assert await REPO.tags_by_contact(session, []) == {}
        assert seen == []


async def test_batches_beyond_the_parameter_limits(container: CoreContainer) -> None:
    """3,000 ids or emails: ids bound as one parameter (one statement), emails in chunks."""
    service = container.contact_service()
    rows = [{"email": f"p{n}@x.io", "tags": ["t"] if n % 2 else []} for n in range(3000)]
    ids = list((await service.bulk_upsert(rows)).ids.values())
    wanted = [*ids, *range(10**9, 10**9 + 40_000)]  # more than any driver's parameter limit
    async with container.read_session_factory()() as session:
        with statements(container) as seen:
            found = await REPO.by_ids(session, wanted, with_tags=True)
        assert len(seen) == 2  # the contacts, their tags
        assert sorted(found) == sorted(ids)
        assert sum(1 for c in found.values() if c.tags == ("t",)) == 1500
        assert len(await REPO.tags_by_contact(session, ids)) == 1500
        by_email = await REPO.by_emails(session, [f"P{n}@x.io" for n in range(3000)])
        assert len(by_email) == 3000


async def test_contact_service_list_reads_through_the_repository(
    container: CoreContainer,
) -> None:
    ids = await _people(container)
    service = container.contact_service()
    first = await service.list(limit=1, tag="vip")
    assert [c.email for c in first.items] == ["Ann@x.io"]
    assert first.items[0].tags == ("b2b", "vip")
    assert first.next_after == ids["ann@x.io"]
    second = await service.list(limit=1, tag="vip", after=first.next_after)
    assert [c.email for c in second.items] == ["carl@x.io"] and second.next_after is None
    assert await service.count() == 5
