"""A dry run: everything computed and counted as in a real run, nothing written or sent."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Collection, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..contacts import ContactService
from ..events import EventBus
from ._exchange import Audience, BaseDataExchange, ObjectResult, Order, OrderItem, OrderResult
from ._pull_store import PullStore, pairs
from ._pulled import PulledContact, PulledPage, StoredMapping
from ._push_store import OrderEffects, PushStore
from ._results import SyncFailure
from ._run_mode import RunMode


class DryRun(RunMode):
    """The run's pages and batches are read in transactions rolled back at their end; the
    pull remembers what it would have created so later pages see it; orders are answered as
    if every object succeeded (``dry-run:<contact id>`` for a new object). No run row, no
    lease, no cursor, no error row."""

    records = False

    def transaction(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> AbstractAsyncContextManager[AsyncSession]:
        return _rolled_back(sessions)

    def pull_store(
        self,
        *,
        integration: str,
        object_name: str,
        contacts: ContactService,
        event_bus: EventBus,
        run_id: int | None,
        unresolved: bool,
    ) -> PullStore:
        return _RememberingPullStore(
            integration=integration,
            object_name=object_name,
            contacts=contacts,
            event_bus=event_bus,
            run_id=run_id,
        )

    def push_store(self, *, integration: str, run_id: int | None) -> PushStore:
        return _CountingPushStore(integration=integration, run_id=run_id)

    async def send(self, exchange: BaseDataExchange, order: Order) -> OrderResult:
        return _succeeded((*order.creates, *order.updates, *order.deletes))

    async def add_to_audience(
        self, exchange: BaseDataExchange, audience: Audience, items: Sequence[OrderItem]
    ) -> OrderResult:
        return _succeeded(items)


@contextlib.asynccontextmanager
async def _rolled_back(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessions() as session:
        yield session
        await session.rollback()


def _succeeded(items: Iterable[OrderItem]) -> OrderResult:
    return OrderResult(
        results=[
            ObjectResult(item.contact_id, item.integration_id or f"dry-run:{item.contact_id}")
            for item in items
        ]
    )


class _RememberingPullStore(PullStore):
    """Writes nothing: remembers the contacts and mappings a page would have created, which
    the database does not show to the run's later pages."""

    locks_contacts = False  # nothing is written: nothing to protect

    def __init__(
        self,
        *,
        integration: str,
        object_name: str,
        contacts: ContactService,
        event_bus: EventBus,
        run_id: int | None,
    ) -> None:
        super().__init__(
            integration=integration,
            object_name=object_name,
            contacts=contacts,
            event_bus=event_bus,
            run_id=run_id,
        )
        self._by_key: dict[str, PulledContact] = {}
        self._by_id: dict[int, PulledContact] = {}
        self._mappings: dict[str, StoredMapping] = {}

    def known_mappings(self, object_ids: Collection[str]) -> dict[str, StoredMapping]:
        return {i: self._mappings[i] for i in object_ids if i in self._mappings}

    def known_contacts(
        self, keys: Collection[str], contact_ids: Collection[int]
    ) -> list[PulledContact]:
        found = {id(c): c for c in (self._by_key.get(key) for key in keys) if c is not None}
        found.update((id(c), c) for c in (self._by_id.get(i) for i in contact_ids) if c is not None)
        return list(found.values())

    async def write(self, session: AsyncSession, page: PulledPage, now: datetime) -> None:
        # New contacts keep their temporary (negative) ids: no database gives them one.
        for contact in page.creates:
            contact.new = False
            contact.old = {}
            self._by_key[contact.key] = contact
            self._by_id[contact.id] = contact
        for item in page.matched:
            assert item.contact is not None
            self._mappings.setdefault(
                item.obj.integration_id,
                StoredMapping(None, item.contact.id, None, item.modified_at, None),
            )
        page.outcome.pairs = pairs(page.matched)


class _CountingPushStore(PushStore):
    """Counts what the answers to orders would change; writes nothing."""

    async def _write(
        self,
        session: AsyncSession,
        obj: str,
        effects: OrderEffects,
        failures: Sequence[SyncFailure],
        now: datetime,
    ) -> None:
        return None
