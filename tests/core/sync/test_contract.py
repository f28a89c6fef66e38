"""The contract suite, run against the reference in-memory integration."""

from __future__ import annotations

import pytest

from leadbridge import CoreContainer
from leadbridge.sync import MappingManual
from leadbridge.testing import MemoryExchange, define_memory_fields
from leadbridge.testing.contract import ExchangeContract, collect_report

from .conftest import seeded


class TestMemoryExchange(ExchangeContract):
    expected_objects = 30

    @pytest.fixture
    def exchange(self) -> MemoryExchange:
        return seeded(30, page_size=7).exchange()

    @pytest.fixture
    def manual(self, exchange: MemoryExchange) -> MappingManual:
        return exchange.integration.manual()

    async def prepare_store(self, container: CoreContainer) -> None:
        await define_memory_fields(container.custom_field_service())


async def test_the_suite_catches_a_broken_cursor() -> None:
    """A contract test can fail: an exchange that ignores its cursor re-reports everything."""

    class Forgetful(MemoryExchange):
        def report(self, request):  # type: ignore[no-untyped-def]
            return super().report(type(request)(request.object, None, fields=request.fields))

    remote = seeded(10, page_size=4)
    suite = TestMemoryExchange()
    with pytest.raises(AssertionError, match="resuming re-reported"):
        await suite.test_the_last_cursor_resumes_after_everything(
            Forgetful(remote), remote.manual()
        )
    pages = await collect_report(Forgetful(remote), remote.manual().objects[0], "8")
    assert sum(len(p.objects) for p in pages) == 10
