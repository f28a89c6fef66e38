"""The data exchange contract suite: what every integration's exchange must do.

Subclass :class:`ExchangeContract` in your plugin's tests, give it two fixtures, and pytest
runs every contract test against your exchange::

    # tests/test_exchange_contract.py
    import pytest
    from leadbridge.testing.contract import ExchangeContract

    pytest_plugins = ["leadbridge.testing.plugin"]  # or in conftest.py


    class TestMyExchange(ExchangeContract):
        expected_objects = (
            25  # what a full report of your seeded test double returns
        )

        @pytest.fixture
        def exchange(self, fake_server):  # a fresh exchange on a seeded test double
            return MyExchange(MyClient(fake_server.url, token="test"))

        @pytest.fixture
        def manual(self):
            return MY_DEFAULT_MANUAL

        async def prepare_store(
            self, container
        ): ...  # define the custom fields your manual maps

The pull tests read reports; the end-to-end tests sync into the ``container`` fixture's
store (``leadbridge.testing.plugin``); the push tests run only when the exchange supports push
and send creates built by :meth:`ExchangeContract.push_sample`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..container import CoreContainer
from ..sync import (
    BaseDataExchange,
    MappingManual,
    ObjectManual,
    Order,
    OrderItem,
    ReportObject,
    ReportPage,
    ReportRequest,
    SyncEngine,
    SyncOptions,
    SyncStatus,
)

__all__ = ["ExchangeContract", "collect_report"]


async def collect_report(
    exchange: BaseDataExchange, obj: ObjectManual, cursor: str | None = None
) -> list[ReportPage]:
    """Every page of ``obj``'s report from ``cursor`` (``None``: everything)."""
    request = ReportRequest(
        object=obj.object, cursor=cursor, fields=tuple(f.integration_field for f in obj.fields)
    )
    return [page async for page in exchange.report(request)]


def _aware(value: Any) -> bool:
    return isinstance(value, datetime) and value.tzinfo is not None


class ExchangeContract:
    """Contract tests for a :class:`~leadbridge.sync.BaseDataExchange` (subclass me).

    Fixtures to provide: ``exchange`` (a fresh exchange per test, talking to a seeded test
    double of your service) and ``manual`` (its :class:`~leadbridge.sync.MappingManual`).
    """

    #: Objects a full report returns in all objects together; ``None``: at least one.
    expected_objects: int | None = None

    async def prepare_store(self, container: CoreContainer) -> None:
        """Prepare an empty store for your manual (define its custom fields)."""

    def push_sample(self, manual: MappingManual, obj: ObjectManual) -> dict[str, Any]:
        """Integration field values of a new object for the push tests (default: an email)."""
        email = obj.by_internal("email")
        assert email is not None
        return {email.integration_field: f"contract-{uuid.uuid4().hex[:12]}@example.com"}

    def _engine(self, container: CoreContainer) -> SyncEngine:
        return SyncEngine(
            container.session_factory(),
            container.contact_service(),
            container.change_log_service(),
            container.event_bus(),
            custom_fields=container.custom_field_service(),
        )

    # -- pull ------------------------------------------------------------------------------

    async def test_report_pages_are_well_formed(
        self, exchange: BaseDataExchange, manual: MappingManual
    ) -> None:
        total = 0
        for obj in manual.objects:
            pages = await collect_report(exchange, obj)
            for page in pages:
                assert isinstance(page, ReportPage), f"report yielded {type(page).__name__}"
                assert page.cursor is None or isinstance(page.cursor, str)
                assert isinstance(page.api_calls, int) and page.api_calls >= 0
                for item in page.objects:
                    assert isinstance(item, ReportObject)
                    assert isinstance(item.integration_id, str) and item.integration_id
                    assert _aware(item.modified_at), f"{item.integration_id}: naive modified_at"
                    assert isinstance(item.fields, Mapping)
                    for name, at in item.field_modified_at.items():
                        assert _aware(at), f"{item.integration_id}.{name}: naive change time"
                total += len(page.objects)
        if self.expected_objects is None:
            assert total > 0, "a full report of the seeded test double returned nothing"
        else:
            assert total == self.expected_objects

    async def test_ids_are_unique_within_a_page(
        self, exchange: BaseDataExchange, manual: MappingManual
    ) -> None:
        for obj in manual.objects:
            for page in await collect_report(exchange, obj):
                ids = [o.integration_id for o in page.objects]
                assert len(ids) == len(set(ids)), f"{obj.object}: an id repeats in a page"

    async def test_the_last_cursor_resumes_after_everything(
        self, exchange: BaseDataExchange, manual: MappingManual
    ) -> None:
        for obj in manual.objects:
            pages = await collect_report(exchange, obj)
            cursor = next((p.cursor for p in reversed(pages) if p.cursor is not None), None)
            if cursor is None:
                continue
            last = {o.integration_id for o in pages[-1].objects}
            again = await collect_report(exchange, obj, cursor)
            repeated = {o.integration_id for p in again for o in p.objects} - last
            assert not repeated, f"{obj.object}: resuming re-reported {sorted(repeated)[:5]}"

    async def test_a_middle_cursor_resumes_with_the_rest(
        self, exchange: BaseDataExchange, manual: MappingManual
    ) -> None:
        for obj in manual.objects:
            pages = await collect_report(exchange, obj)
            if len(pages) < 2 or pages[0].cursor is None:
                continue
            rest = {o.integration_id for p in pages[1:] for o in p.objects}
            resumed = await collect_report(exchange, obj, pages[0].cursor)
            got = {o.integration_id for p in resumed for o in p.objects}
            assert rest <= got, f"{obj.object}: resuming lost {sorted(rest - got)[:5]}"

    async def test_pull_into_an_empty_store(
        self, exchange: BaseDataExchange, manual: MappingManual, container: CoreContainer
    ) -> None:
        await self.prepare_store(container)
        engine = self._engine(container)
        first = await engine.run(exchange, manual, SyncOptions(pull_only=True))
        assert first.status in (SyncStatus.SUCCEEDED, SyncStatus.PARTIAL), first.error
        c = first.counters
        assert c.pulled > 0
        assert c.created + c.updated + c.unchanged + c.failed >= c.pulled
        assert await container.contact_service().count() == c.created
        # The stored cursor resumes after everything: a second pull changes nothing.
        second = await engine.run(exchange, manual, SyncOptions(pull_only=True))
        assert second.status is not SyncStatus.FAILED, second.error
        assert (second.counters.created, second.counters.updated) == (0, 0)

    # -- push ------------------------------------------------------------------------------

    async def test_push_creates_then_updates(
        self, exchange: BaseDataExchange, manual: MappingManual
    ) -> None:
        if not exchange.supports_push or not exchange.supports_create:
            return
        obj = manual.objects[0]
        sample = self.push_sample(manual, obj)
        created = await exchange.execute(Order(obj.object, creates=[OrderItem(1, sample)]))
        (result,) = created.results
        assert result.ok and result.contact_id == 1, result.error
        assert isinstance(result.integration_id, str) and result.integration_id
        iid = result.integration_id
        updated = await exchange.execute(
            Order(obj.object, updates=[OrderItem(1, sample, integration_id=iid)])
        )
        (again,) = updated.results
        assert again.ok and again.integration_id == iid, again.error
        # Creates are idempotent: replaying one finds the object made before.
        replay = await exchange.execute(Order(obj.object, creates=[OrderItem(1, sample)]))
        assert replay.results[0].integration_id == iid
        reported = {
            o.integration_id for p in await collect_report(exchange, obj) for o in p.objects
        }
        assert iid in reported, "a created object does not show up in the report"

    async def test_every_order_item_gets_a_result(
        self, exchange: BaseDataExchange, manual: MappingManual
    ) -> None:
        if not exchange.supports_push or not exchange.supports_create:
            return
        obj = manual.objects[0]
        items = [OrderItem(i, self.push_sample(manual, obj)) for i in (11, 12, 13)]
        result = await exchange.execute(Order(obj.object, creates=items))
        assert sorted(r.contact_id for r in result.results) == [11, 12, 13]

    async def test_push_round_trip(
        self, exchange: BaseDataExchange, manual: MappingManual, container: CoreContainer
    ) -> None:
        if not exchange.supports_push or not exchange.supports_create:
            return
        await self.prepare_store(container)
        contact = await container.contact_service().create(
            f"round-trip-{uuid.uuid4().hex[:8]}@example.com"
        )
        engine = self._engine(container)
        result = await engine.run(exchange, manual, SyncOptions(push_only=True))
        assert result.status is SyncStatus.SUCCEEDED, result.error or result.failures
        assert result.counters.pushed >= 1
        mappings = await container.sync_run_service().mappings(contact.id)
        assert [m.integration for m in mappings] == [manual.integration] * len(manual.objects)
