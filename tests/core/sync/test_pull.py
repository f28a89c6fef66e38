"""Pull: counting, matching, duplicates, directions, normalization, bad objects, options."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

from sqlalchemy import select
from typing_extensions import override

from leadbridge import CoreContainer
from leadbridge.contacts import ContactChangeRow, ContactRow
from leadbridge.sync import (
    TO_INTEGRATION,
    TO_INTERNAL,
    BatchSynced,
    ReportObject,
    ReportPage,
    ReportRequest,
    SyncCursorRow,
    SyncEngine,
    SyncErrorRow,
    SyncObjectError,
    SyncObjectMappingRow,
    SyncOptions,
    SyncStatus,
)
from leadbridge.testing import MemoryExchange, MemoryIntegration

from .conftest import count, person, seeded


async def test_create_update_unchanged_counting(store: CoreContainer, engine: SyncEngine) -> None:
    remote = seeded(25, page_size=10)
    first = await engine.run(remote.exchange(), remote.manual())
    assert first.status is SyncStatus.SUCCEEDED
    c = first.counters
    assert (c.pulled, c.created, c.updated, c.unchanged, c.failed) == (25, 25, 0, 0, 0)
    assert c.api_calls == 3  # three pages
    assert await store.contact_service().count() == 25
    assert await count(store, SyncObjectMappingRow) == 25

    again = await engine.run(remote.exchange(), remote.manual())
    assert (again.counters.pulled, again.counters.created, again.counters.updated) == (0, 0, 0)

    remote.update("p3", {"firstName": "Changed"})
    remote.update("p4", {"firstName": "First4"})  # touched, same value
    third = await engine.run(remote.exchange(), remote.manual())
    c = third.counters
    assert (c.pulled, c.created, c.updated, c.unchanged) == (2, 0, 1, 1)
    ann = await store.contact_service().get_by_email("user3@example.com")
    assert ann.first_name == "Changed"
    # The change is logged with the integration as its source (so push never echoes it).
    async with store.session_factory()() as session:
        sources = set(
            (
                await session.scalars(
                    select(ContactChangeRow.source).where(ContactChangeRow.contact_id == ann.id)
                )
            ).all()
        )
    assert sources == {"memory"}


async def test_values_are_normalized(store: CoreContainer, engine: SyncEngine) -> None:
    remote = MemoryIntegration()
    remote.add(
        {
            "emailAddress": "  Norm@Example.com ",
            "firstName": " Ann ",
            "website": "https://example.com/ann",
            "score": "12.50",
            "vip": "yes",
            "birthday": "1990-04-01T00:00:00",
            "lastSeen": 1_700_000_000,
            "plan": "pro",
            "interests": "webinars|events",
            "city": "N/A",  # the exchange's convention for "no value"
            "country": "",
        }
    )
    result = await engine.run(remote.exchange(), remote.manual())
    assert result.status is SyncStatus.SUCCEEDED
    ann = await store.contact_service().get_by_email("norm@example.com")
    assert ann.email == "Norm@Example.com"
    assert (ann.first_name, ann.city, ann.country) == ("Ann", None, None)
    assert ann.fields == {
        "website": "https://example.com/ann",
        "score": 12.5,
        "vip": True,
        "birthday": "1990-04-01",
        "last_seen": "2023-11-14T22:13:20Z",
        "plan": "pro",
        "interests": ["webinars", "events"],
    }


async def test_match_by_email_across_case(store: CoreContainer, engine: SyncEngine) -> None:
    contacts = store.contact_service()
    ann = await contacts.create("Ann@Example.COM", first_name="Ann")
    remote = MemoryIntegration()
    remote.add({"emailAddress": "ann@example.com", "lastName": "Smith"})
    result = await engine.run(remote.exchange(), remote.manual())
    assert (result.counters.created, result.counters.updated) == (0, 1)
    assert await contacts.count() == 1
    again = await contacts.get(ann.id)
    assert (again.email, again.first_name, again.last_name) == ("Ann@Example.COM", "Ann", "Smith")
    mappings = await store.sync_run_service().mappings(ann.id)
    assert [(m.integration, m.object, m.integration_id) for m in mappings] == [
        ("memory", "people", "p0")
    ]


async def test_duplicate_emails_in_one_page_become_one_contact(
    store: CoreContainer, engine: SyncEngine
) -> None:
    remote = MemoryIntegration(page_size=50)
    remote.add({"emailAddress": "dup@example.com", "firstName": "Dee"})
    remote.add({"emailAddress": "DUP@example.com", "lastName": "Upp"})
    remote.add({"emailAddress": "other@example.com"})
    result = await engine.run(remote.exchange(), remote.manual())
    c = result.counters
    assert (c.pulled, c.created, c.updated, c.failed) == (3, 2, 1, 0)
    assert await store.contact_service().count() == 2
    dup = await store.contact_service().get_by_email("dup@example.com")
    assert (dup.first_name, dup.last_name) == ("Dee", "Upp")
    ids = {m.integration_id for m in await store.sync_run_service().mappings(dup.id)}
    assert ids == {"p0", "p1"}


async def test_duplicate_emails_across_pages(store: CoreContainer, engine: SyncEngine) -> None:
    remote = MemoryIntegration(page_size=1)
    remote.add({"emailAddress": "dup@example.com"})
    remote.add({"emailAddress": "Dup@Example.com", "firstName": "D"})
    result = await engine.run(remote.exchange(), remote.manual())
    assert (result.counters.created, result.counters.updated) == (1, 1)
    assert await store.contact_service().count() == 1


async def test_to_integration_field_never_changes_a_contact_on_pull(
    store: CoreContainer, engine: SyncEngine
) -> None:
    remote = MemoryIntegration()
    pid = remote.add({"emailAddress": "ann@example.com", "firstName": "Remote", "city": "Paris"})
    manual = remote.manual(directions={"first_name": TO_INTEGRATION, "city": TO_INTERNAL})
    await engine.run(remote.exchange(), manual, SyncOptions(pull_only=True))
    ann = await store.contact_service().get_by_email("ann@example.com")
    assert (ann.first_name, ann.city) == (None, "Paris")

    remote.update(pid, {"firstName": "Again", "city": "Lyon"})
    result = await engine.run(remote.exchange(), manual, SyncOptions(pull_only=True))
    assert result.counters.updated == 1
    ann = await store.contact_service().get_by_email("ann@example.com")
    assert (ann.first_name, ann.city) == (None, "Lyon")


async def test_bad_objects_are_recorded_and_the_rest_syncs(
    store: CoreContainer, engine: SyncEngine
) -> None:
    remote = MemoryIntegration(page_size=3)
    for i in range(4):
        remote.add(person(i))
    remote.add({"emailAddress": "not-an-email", "firstName": "Bad"})
    remote.add(person(5, score="many"))
    remote.add(person(6, plan="platinum"))
    remote.add({"firstName": "No email"})
    remote.unreadable.add(remote.add(person(8)))
    result = await engine.run(remote.exchange(), remote.manual())
    assert result.status is SyncStatus.PARTIAL
    assert (result.counters.created, result.counters.failed) == (4, 5)
    assert await store.contact_service().count() == 4
    failures = {f.integration_id: (f.field, f.message) for f in result.failures}
    assert failures["p4"][0] == "email" and "not-an-email" in failures["p4"][1]
    assert failures["p5"][0] == "score" and "many" in failures["p5"][1]
    assert failures["p6"][0] == "plan" and "platinum" in failures["p6"][1]
    assert failures["p7"][0] == "email"
    assert failures["p8"][1] == "unreadable record"
    recorded = await store.sync_run_service().errors(run_id=result.run_id)
    assert sorted(e.integration_id or "" for e in recorded) == ["p4", "p5", "p6", "p7", "p8"]
    run = await store.sync_run_service().get(result.run_id or 0)
    assert (run.status, run.counters.failed) == (SyncStatus.PARTIAL, 5)

    # Fixed at the source, the object syncs and its error is resolved.
    remote.update("p5", {"score": "5"})
    fixed = await engine.run(remote.exchange(), remote.manual())
    assert fixed.status is SyncStatus.SUCCEEDED and fixed.counters.created == 1
    assert await count(store, SyncErrorRow, SyncErrorRow.resolved_at.is_(None)) == 4


class _RelistingExchange(MemoryExchange):
    """Two pages: p0 and p2 unreadable on the first, p0 readable again on the second (an
    object listed twice in one run, as a source whose order shifts while it is read)."""

    @override
    async def report(self, request: ReportRequest) -> AsyncIterator[ReportPage]:
        now = datetime.now(UTC)
        unreadable = [SyncObjectError("unreadable record", integration_id=i) for i in ("p0", "p2")]
        yield ReportPage([ReportObject("p1", now, person(1))], "1", api_calls=1, errors=unreadable)
        yield ReportPage([ReportObject("p0", now, person(0))], "2", api_calls=1)


async def test_a_failure_is_resolved_when_its_object_syncs_later_in_the_run(
    store: CoreContainer, engine: SyncEngine
) -> None:
    remote = MemoryIntegration()
    result = await engine.run(_RelistingExchange(remote), remote.manual())
    assert result.counters.failed == 2 and result.counters.created == 2
    errors = await store.sync_run_service().errors(run_id=result.run_id)
    assert sorted(e.integration_id or "" for e in errors) == ["p0", "p2"]
    # p0 synced on the second page: its error is resolved; p2's stays.
    unresolved = await store.sync_run_service().errors(unresolved=True)
    assert [e.integration_id for e in unresolved] == ["p2"]


async def test_deleted_object_marks_its_mapping(store: CoreContainer, engine: SyncEngine) -> None:
    remote = seeded(2)
    await engine.run(remote.exchange(), remote.manual())
    remote.delete("p1")
    await engine.run(remote.exchange(), remote.manual())
    assert await store.contact_service().count() == 2  # the contact stays
    assert (
        await count(store, SyncObjectMappingRow, SyncObjectMappingRow.deleted_at.is_not(None)) == 1
    )


async def test_first_sync_from_a_date(store: CoreContainer, engine: SyncEngine) -> None:
    remote = MemoryIntegration()
    remote.add(person(0), at=datetime(2023, 1, 1, tzinfo=UTC))
    remote.add(person(1), at=datetime(2024, 6, 1, tzinfo=UTC))
    since = datetime(2024, 1, 1, tzinfo=UTC)
    result = await engine.run(remote.exchange(), remote.manual(), SyncOptions(since=since))
    assert result.counters.created == 1
    assert (await store.contact_service().list()).items[0].email == "user1@example.com"

    # The manual's first sync date applies when no cursor is stored yet.
    await store.sync_run_service().reset_cursor("memory")
    async with store.session_factory().begin() as session:
        await session.execute(SyncCursorRow.__table__.delete())
    full = await engine.run(
        remote.exchange(), remote.manual(first_sync_from=datetime(2022, 1, 1, tzinfo=UTC))
    )
    assert full.counters.created == 1 and await store.contact_service().count() == 2


async def test_full_resync_and_limit_to_ids(store: CoreContainer, engine: SyncEngine) -> None:
    remote = seeded(5)
    await engine.run(remote.exchange(), remote.manual())
    full = await engine.run(
        remote.exchange(), remote.manual(), SyncOptions(full=True, pull_only=True)
    )
    assert (full.counters.pulled, full.counters.unchanged) == (5, 5)

    remote.update("p1", {"firstName": "One"})
    remote.update("p2", {"firstName": "Two"})
    cursor = await store.sync_run_service().cursor("memory", "people")
    only = await engine.run(
        remote.exchange(), remote.manual(), SyncOptions(ids=frozenset({"p2"}), pull_only=True)
    )
    assert (only.counters.pulled, only.counters.updated) == (1, 1)
    contacts = store.contact_service()
    assert (await contacts.get_by_email("user1@example.com")).first_name == "First1"
    assert (await contacts.get_by_email("user2@example.com")).first_name == "Two"
    # A targeted run does not move the cursor: the next run still sees p1.
    assert await store.sync_run_service().cursor("memory", "people") == cursor
    rest = await engine.run(remote.exchange(), remote.manual())
    assert (rest.counters.pulled, rest.counters.updated, rest.counters.unchanged) == (2, 1, 1)


async def test_batch_event_inside_the_page_transaction(
    store: CoreContainer, engine: SyncEngine
) -> None:
    seen: list[tuple[str, int, int]] = []

    async def handler(event: BatchSynced) -> None:
        assert event.session is not None
        # A plugin writes through the page's session: it sees the page's contacts.
        n = await event.session.scalar(
            ContactRow.__table__.select()
            .with_only_columns(ContactRow.id)
            .where(ContactRow.id.in_([cid for _o, cid in event.pairs]))
            .with_only_columns(__import__("sqlalchemy").func.count())
        )
        seen.append((event.object, len(event.pairs), int(n or 0)))

    store.event_bus().subscribe(BatchSynced, handler)
    try:
        remote = seeded(15, page_size=10)
        await engine.run(remote.exchange(), remote.manual())
    finally:
        store.event_bus().unsubscribe(BatchSynced, handler)
    assert seen == [("people", 10, 10), ("people", 5, 5)]


async def test_a_failing_batch_handler_rolls_the_page_back(
    store: CoreContainer, engine: SyncEngine
) -> None:
    pages = 0

    async def handler(event: BatchSynced) -> None:
        nonlocal pages
        pages += 1
        if pages == 2:
            raise RuntimeError("plugin table is full")

    store.event_bus().subscribe(BatchSynced, handler)
    try:
        remote = seeded(15, page_size=10)
        result = await engine.run(remote.exchange(), remote.manual())
    finally:
        store.event_bus().unsubscribe(BatchSynced, handler)
    assert result.status is SyncStatus.FAILED and "plugin table is full" in (result.error or "")
    assert await store.contact_service().count() == 10
    assert await store.sync_run_service().cursor("memory", "people") == "10"


async def test_skipped_objects_are_recorded_apart_and_the_run_succeeds(
    store: CoreContainer, engine: SyncEngine
) -> None:
    remote = seeded(3)
    remote.skipped.add(remote.add(person(3)))

    result = await engine.run(remote.exchange(), remote.manual())

    assert result.status is SyncStatus.SUCCEEDED
    assert (result.counters.created, result.counters.skipped, result.counters.failed) == (3, 1, 0)
    [recorded] = await store.sync_run_service().errors(run_id=result.run_id)
    assert recorded.skipped and recorded.integration_id == "p3"
    assert "internal test account" in recorded.message
    run = await store.sync_run_service().get(result.run_id or 0)
    assert run.counters.skipped == 1
    [status] = await store.sync_run_service().status("memory")
    assert status.unresolved_errors == 0
