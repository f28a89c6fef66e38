"""Push: echo suppression, directions, creates, failures and retries, segments, deletes."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from leadbridge import CoreContainer
from leadbridge.contacts import ContactRow
from leadbridge.sync import (
    TO_INTERNAL,
    OrderItem,
    SyncEngine,
    SyncErrorRow,
    SyncObjectMappingRow,
    SyncOptions,
    SyncStatus,
)
from leadbridge.testing import MemoryIntegration

from .conftest import count, seeded


async def test_pulled_changes_are_not_echoed(store: CoreContainer, engine: SyncEngine) -> None:
    remote = seeded(12, page_size=5)
    first = await engine.run(remote.exchange(), remote.manual())
    assert (first.counters.created, first.counters.pushed) == (12, 0)
    remote.update("p1", {"firstName": "Changed remotely"})
    second = await engine.run(remote.exchange(), remote.manual())
    assert (second.counters.updated, second.counters.pushed) == (1, 0)
    assert remote.orders == []


async def test_internal_change_pushes_only_that_field(
    store: CoreContainer, engine: SyncEngine
) -> None:
    remote = seeded(3)
    await engine.run(remote.exchange(), remote.manual())
    contacts = store.contact_service()
    ann = await contacts.get_by_email("user1@example.com")
    await contacts.update(ann.id, {"first_name": "Annie", "score": 99})
    result = await engine.run(remote.exchange(), remote.manual())
    assert result.counters.pushed == 1
    (order,) = remote.orders
    assert not order.creates and not order.deletes
    expected = OrderItem(ann.id, {"firstName": "Annie", "score": 99}, "p1")
    assert list(order.updates) == [expected]
    assert remote.get("p1")["firstName"] == "Annie"
    # The push came back as a remote change: pulled, unchanged, not pushed again.
    again = await engine.run(remote.exchange(), remote.manual())
    assert (again.counters.pulled, again.counters.unchanged, again.counters.pushed) == (1, 1, 0)


async def test_a_to_internal_field_is_never_pushed(
    store: CoreContainer, engine: SyncEngine
) -> None:
    remote = seeded(1)
    manual = remote.manual(directions={"city": TO_INTERNAL})
    await engine.run(remote.exchange(), manual)
    contacts = store.contact_service()
    ann = await contacts.get_by_email("user0@example.com")
    await contacts.update(ann.id, {"city": "Oslo"})
    result = await engine.run(remote.exchange(), manual)
    assert result.counters.pushed == 0 and remote.orders == []
    assert "city" not in remote.get("p0")


async def test_new_contacts_are_created_and_mapped(
    store: CoreContainer, engine: SyncEngine
) -> None:
    remote = seeded(2)
    await engine.run(remote.exchange(), remote.manual())
    contacts = store.contact_service()
    new = await contacts.create("new@example.com", first_name="Nina", fields={"plan": "pro"})
    result = await engine.run(remote.exchange(), remote.manual())
    assert result.counters.pushed == 1
    (order,) = remote.orders
    assert list(order.creates) == [
        OrderItem(new.id, {"emailAddress": "new@example.com", "firstName": "Nina", "plan": "pro"})
    ]
    (mapping,) = await store.sync_run_service().mappings(new.id)
    assert remote.get(mapping.integration_id)["firstName"] == "Nina"
    # The created object comes back on the next pull: matched, not duplicated.
    again = await engine.run(remote.exchange(), remote.manual())
    assert (again.counters.created, again.counters.unchanged) == (0, 1)
    assert await contacts.count() == 3


async def test_creates_limited_to_a_segment(store: CoreContainer, engine: SyncEngine) -> None:
    remote = seeded(0)
    contacts = store.contact_service()
    vip = await contacts.create("vip@example.com")
    await contacts.create("plain@example.com")
    members = select(ContactRow.id).where(ContactRow.email.like("vip%"))
    result = await engine.run(
        remote.exchange(), remote.manual(), SyncOptions(create_filter=members)
    )
    assert result.counters.pushed == 1
    assert [i.contact_id for i in remote.orders[0].creates] == [vip.id]

    later = await contacts.create("later@example.com")

    async def only_later(session: AsyncSession, ids: Sequence[int]) -> Collection[int]:
        return [i for i in ids if i == later.id]

    result = await engine.run(
        remote.exchange(), remote.manual(), SyncOptions(create_filter=only_later)
    )
    assert [i.contact_id for i in remote.orders[-1].creates] == [later.id]


async def test_push_failures_are_recorded_and_retried(
    store: CoreContainer, engine: SyncEngine
) -> None:
    remote = seeded(2)
    await engine.run(remote.exchange(), remote.manual())
    contacts = store.contact_service()
    refused = await contacts.create("refused@example.com")
    ok = await contacts.create("ok@example.com")
    remote.reject_push["refused@example.com"] = "quota exceeded"
    result = await engine.run(remote.exchange(), remote.manual())
    assert result.status is SyncStatus.PARTIAL
    assert (result.counters.pushed, result.counters.failed) == (1, 1)
    (failure,) = result.failures
    assert (failure.direction, failure.contact_id, failure.message) == (
        "push",
        refused.id,
        "quota exceeded",
    )
    assert len(await store.sync_run_service().mappings(ok.id)) == 1
    assert await store.sync_run_service().mappings(refused.id) == []

    # Nothing changed since, yet the next run retries it; success resolves the error.
    del remote.reject_push["refused@example.com"]
    retry = await engine.run(remote.exchange(), remote.manual())
    assert retry.status is SyncStatus.SUCCEEDED and retry.counters.pushed == 1
    assert len(await store.sync_run_service().mappings(refused.id)) == 1
    assert await count(store, SyncErrorRow, SyncErrorRow.resolved_at.is_(None)) == 0


async def test_deleted_contacts_are_deleted_remotely(
    store: CoreContainer, engine: SyncEngine
) -> None:
    remote = seeded(2)
    await engine.run(remote.exchange(), remote.manual())
    contacts = store.contact_service()
    gone = await contacts.get_by_email("user0@example.com")
    await contacts.delete(gone.id)
    result = await engine.run(remote.exchange(), remote.manual())
    assert result.counters.pushed == 1
    assert remote.records["p0"].deleted
    assert await count(store, SyncObjectMappingRow, SyncObjectMappingRow.contact_id == gone.id) == 0


async def test_pull_only_and_push_only(store: CoreContainer, engine: SyncEngine) -> None:
    remote = seeded(2)
    await store.contact_service().create("local@example.com")
    pulled = await engine.run(remote.exchange(), remote.manual(), SyncOptions(pull_only=True))
    assert (pulled.counters.created, pulled.counters.pushed) == (2, 0)
    remote.add({"emailAddress": "remote@example.com"})
    pushed = await engine.run(remote.exchange(), remote.manual(), SyncOptions(push_only=True))
    assert (pushed.counters.pulled, pushed.counters.pushed) == (0, 1)
    assert await store.contact_service().count() == 3


async def test_a_contact_created_here_pushes_all_but_what_the_integration_set(
    store: CoreContainer, engine: SyncEngine
) -> None:
    contacts = store.contact_service()
    ann = await contacts.create("ann@example.com", first_name="Ann", city="Oslo")
    remote = MemoryIntegration()
    remote.add({"emailAddress": "ann@example.com", "lastName": "Smith"})
    result = await engine.run(remote.exchange(), remote.manual())
    assert (result.counters.updated, result.counters.pushed) == (1, 1)
    (order,) = remote.orders
    (item,) = order.updates
    assert item.integration_id == "p0" and item.contact_id == ann.id
    # Matched by email, filled with the remote last name (an echo if pushed back), and the
    # values created here go out.
    assert item.fields == {"emailAddress": "ann@example.com", "firstName": "Ann", "city": "Oslo"}
    assert remote.get("p0")["lastName"] == "Smith"
