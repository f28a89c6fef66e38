"""Audience push: a segment's members added to a list of the integration by the engine."""

from __future__ import annotations

from collections.abc import Sequence

from typing_extensions import override

from leadbridge import CoreContainer
from leadbridge.sync import (
    Audience,
    ObjectResult,
    OrderItem,
    OrderResult,
    SyncEngine,
    SyncOptions,
    SyncStatus,
)
from leadbridge.testing import MemoryIntegration
from leadbridge.testing._memory_integration import MemoryExchange

PUSH_ONLY = SyncOptions(push_only=True)


class ListExchange(MemoryExchange):
    """The memory integration with one mailing list fed by segment ``alias``."""

    def __init__(self, remote: MemoryIntegration, *, segment: str = "fans") -> None:
        super().__init__(remote)
        self.members: dict[str, dict[str, object]] = {}
        self.refuse: set[str] = set()
        self.batches: list[int] = []
        self.segment = segment

    @override
    async def audiences(self) -> Sequence[Audience]:
        return [Audience("list:news", self.segment, "news", fields_from="people")]

    @override
    async def add_to_audience(self, audience: Audience, items: Sequence[OrderItem]) -> OrderResult:
        self.batches.append(len(items))
        results = []
        for item in items:
            email = str(item.fields["emailAddress"])
            if email in self.refuse:
                results.append(ObjectResult.failed(item.contact_id, f"{email} bounced before"))
            else:
                self.members[email] = dict(item.fields)
                results.append(ObjectResult(item.contact_id, email))
        return OrderResult(results, api_calls=1)


async def fans(container: CoreContainer, n: int) -> list[int]:
    result = await container.contact_service().bulk_upsert(
        {"email": f"fan{i}@example.com", "first_name": f"Fan{i}"} for i in range(n)
    )
    await container.segment_service().create("Fans", alias="fans")
    ids = sorted(result.ids.values())
    await container.segment_service().add_contacts("fans", ids)
    return ids


async def test_members_are_added_once_with_the_mapped_fields(
    container: CoreContainer, engine: SyncEngine
) -> None:
    remote = MemoryIntegration()
    exchange = ListExchange(remote)
    await fans(container, 3)

    first = await engine.run(exchange, remote.manual(), PUSH_ONLY)
    second = await engine.run(exchange, remote.manual(), PUSH_ONLY)

    # 3 people created by the change-log push, then the same 3 added to the list
    assert first.status == SyncStatus.SUCCEEDED and first.counters.pushed == 6
    assert exchange.members["fan0@example.com"] == {
        "emailAddress": "fan0@example.com",
        "firstName": "Fan0",
    }
    assert second.counters.pushed == 0 and exchange.batches == [3]


async def test_excluded_members_and_pull_only_fields_are_left_out(
    container: CoreContainer, engine: SyncEngine
) -> None:
    remote = MemoryIntegration()
    exchange = ListExchange(remote)
    ids = await fans(container, 3)
    await container.segment_service().remove_contacts("fans", [ids[0]])
    # first_name only pulls: it is not sent; email, the identifier, always is
    manual = remote.manual(directions={"first_name": "to_internal"})

    await engine.run(exchange, manual, PUSH_ONLY)

    assert sorted(exchange.members) == ["fan1@example.com", "fan2@example.com"]
    assert exchange.members["fan1@example.com"] == {"emailAddress": "fan1@example.com"}


async def test_a_refused_member_is_a_failure_retried_until_it_passes(
    container: CoreContainer, engine: SyncEngine
) -> None:
    remote = MemoryIntegration()
    exchange = ListExchange(remote)
    ids = await fans(container, 2)
    exchange.refuse.add("fan1@example.com")

    first = await engine.run(exchange, remote.manual(), PUSH_ONLY)
    exchange.refuse.clear()
    second = await engine.run(exchange, remote.manual(), PUSH_ONLY)

    assert first.status == SyncStatus.PARTIAL
    assert [(f.contact_id, f.message) for f in first.failures] == [
        (ids[1], "fan1@example.com bounced before")
    ]
    assert second.status == SyncStatus.SUCCEEDED
    assert exchange.batches == [2, 1] and "fan1@example.com" in exchange.members


async def test_an_audience_over_an_unmapped_object_fails_the_run_by_name(
    container: CoreContainer, engine: SyncEngine
) -> None:
    remote = MemoryIntegration()

    class Broken(ListExchange):
        @override
        async def audiences(self) -> Sequence[Audience]:
            return [Audience("list:news", "fans", "news", fields_from="companies")]

    await fans(container, 1)
    result = await engine.run(Broken(remote), remote.manual(), PUSH_ONLY)

    assert result.status == SyncStatus.FAILED
    assert result.error is not None and "'companies'" in result.error
