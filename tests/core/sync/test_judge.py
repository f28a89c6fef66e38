"""The judge: a field changed on both sides goes to the newer change; ties to the setting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from leadbridge import CoreContainer
from leadbridge.contacts import ContactChangeRow
from leadbridge.sync import SyncEngine, SyncJudge, SyncOptions, SyncStatus
from leadbridge.testing import MemoryIntegration

from .conftest import person

T0 = datetime(2024, 1, 1, tzinfo=UTC)
PULL = SyncOptions(pull_only=True)


async def _synced(
    store: CoreContainer, engine: SyncEngine, winner: str = "internal", per_field: bool = True
) -> tuple[MemoryIntegration, int]:
    """One object pulled at T0, then its first name changed internally."""
    remote = MemoryIntegration(per_field_times=per_field)
    remote.add(person(0), at=T0)
    await engine.run(remote.exchange(), remote.manual(conflict_winner=winner), PULL)
    contacts = store.contact_service()
    ann = await contacts.get_by_email("user0@example.com")
    await contacts.update(ann.id, {"first_name": "Internal"})
    return remote, ann.id


async def test_integration_change_newer_wins(store: CoreContainer, engine: SyncEngine) -> None:
    remote, cid = await _synced(store, engine)
    remote.update("p0", {"firstName": "Remote"}, at=datetime.now(UTC) + timedelta(hours=1))
    result = await engine.run(remote.exchange(), remote.manual(), PULL)
    assert (result.counters.conflicts, result.counters.updated) == (1, 1)
    assert (await store.contact_service().get(cid)).first_name == "Remote"


async def test_internal_change_newer_wins_and_is_pushed(
    store: CoreContainer, engine: SyncEngine
) -> None:
    remote, cid = await _synced(store, engine)
    remote.update("p0", {"firstName": "Remote"}, at=T0 + timedelta(days=1))
    result = await engine.run(remote.exchange(), remote.manual())
    assert result.status is SyncStatus.SUCCEEDED
    assert (result.counters.conflicts, result.counters.unchanged, result.counters.pushed) == (
        1,
        1,
        1,
    )
    assert (await store.contact_service().get(cid)).first_name == "Internal"
    assert remote.get("p0")["firstName"] == "Internal"


async def test_a_kept_internal_value_is_defended_until_pushed(
    store: CoreContainer, engine: SyncEngine
) -> None:
    # Object-level times only: every field of a re-sent object looks changed remotely.
    remote, cid = await _synced(store, engine, per_field=False)
    remote.update("p0", {"firstName": "Remote"}, at=T0 + timedelta(days=1))
    await engine.run(remote.exchange(), remote.manual(), PULL)
    # The remote sends the object again (another field changed): still a conflict, not a loss.
    remote.update("p0", {"lastName": "L"}, at=T0 + timedelta(days=2))
    again = await engine.run(remote.exchange(), remote.manual(), PULL)
    assert again.counters.conflicts == 1
    contact = await store.contact_service().get(cid)
    assert (contact.first_name, contact.last_name) == ("Internal", "L")


async def test_fields_changed_on_different_sides_do_not_conflict(
    store: CoreContainer, engine: SyncEngine
) -> None:
    remote, cid = await _synced(store, engine)
    # Per-field times: only the last name changed remotely, the first name did not.
    remote.update("p0", {"lastName": "Remote"}, at=datetime.now(UTC) + timedelta(hours=1))
    result = await engine.run(remote.exchange(), remote.manual())
    assert result.counters.conflicts == 0
    contact = await store.contact_service().get(cid)
    assert (contact.first_name, contact.last_name) == ("Internal", "Remote")
    assert remote.get("p0")["firstName"] == "Internal"


@pytest.mark.parametrize(
    ("winner", "expected"), [("internal", "Internal"), ("integration", "Remote")]
)
async def test_exact_tie_goes_to_the_configured_winner(
    store: CoreContainer, engine: SyncEngine, winner: str, expected: str
) -> None:
    remote, cid = await _synced(store, engine, winner)
    async with store.session_factory()() as session:
        changed_at = await session.scalar(
            select(ContactChangeRow.changed_at).where(
                ContactChangeRow.contact_id == cid, ContactChangeRow.field == "first_name"
            )
        )
    assert changed_at is not None
    remote.update("p0", {"firstName": "Remote"}, at=changed_at)
    result = await engine.run(remote.exchange(), remote.manual(conflict_winner=winner), PULL)
    assert result.counters.conflicts == 1
    assert (await store.contact_service().get(cid)).first_name == expected


def test_judge_rules() -> None:
    judge = SyncJudge("integration")
    t = datetime(2024, 5, 1, tzinfo=UTC)
    hour = timedelta(hours=1)
    # Nothing changed internally since the last sync: take the integration's value.
    v = judge.decide(
        internal_changed_at=t - hour,
        integration_changed_at=t,
        last_synced_at=t - hour,
        integration_seen_at=t - 2 * hour,
    )
    assert (v.winner, v.conflict) == ("integration", False)
    # Changed internally, not in the integration since it was seen: keep ours, no conflict.
    v = judge.decide(
        internal_changed_at=t,
        integration_changed_at=t - hour,
        last_synced_at=t - hour,
        integration_seen_at=t - hour,
    )
    assert (v.winner, v.conflict) == ("internal", False)
    # Both changed: the newer wins; a tie goes to the configured side.
    both = {"last_synced_at": t - 2 * hour, "integration_seen_at": t - 2 * hour}
    assert judge.decide(internal_changed_at=t, integration_changed_at=t - hour, **both).winner == (
        "internal"
    )
    tie = judge.decide(internal_changed_at=t, integration_changed_at=t, **both)
    assert (tie.winner, tie.conflict) == ("integration", True)
    assert SyncJudge().decide(internal_changed_at=t, integration_changed_at=t, **both).winner == (
        "internal"
    )


@pytest.mark.parametrize(
    ("remote_at", "expected"),
    [(datetime(2020, 1, 1, tzinfo=UTC), "Ann"), (datetime(2999, 1, 1, tzinfo=UTC), "Remote")],
)
async def test_first_match_by_email_judges_against_the_creation(
    store: CoreContainer, engine: SyncEngine, remote_at: datetime, expected: str
) -> None:
    """A contact created here and never synced: the values it was created with changed at its
    creation; an empty field is filled without a conflict."""
    ann = await store.contact_service().create("ann@example.com", first_name="Ann")
    remote = MemoryIntegration()
    remote.add(
        {"emailAddress": "ann@example.com", "firstName": "Remote", "lastName": "Smith"},
        at=remote_at,
    )
    result = await engine.run(remote.exchange(), remote.manual(), PULL)
    assert (result.counters.conflicts, result.counters.updated) == (1, 1)
    contact = await store.contact_service().get(ann.id)
    assert (contact.first_name, contact.last_name) == (expected, "Smith")
