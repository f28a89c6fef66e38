"""A dry run: everything computed and counted as in a real run, nothing written or sent."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Collection, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ._exchange import Audience, BaseDataExchange, ObjectResult, Order, OrderItem, OrderResult
from ._pull_store import PullStore, pairs
from ._pulled import PulledContact, PulledPage, StoredMapping
from ._push_store import OrderEffects, PushStore
from ._results import SyncFailure
from ._run_mode import RunMode


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


@dataclass
class _PullMemory:
    """What earlier pages of a dry run would have created."""

    by_key: dict[str, PulledContact] = field(default_factory=dict)
    by_id: dict[int, PulledContact] = field(default_factory=dict)
    mappings: dict[str, StoredMapping] = field(default_factory=dict)


class _RememberingPullStore(PullStore):
    """Writes nothing: remembers the contacts and mappings a page would have created, which
    the database does not show to the run's later pages."""

    locks_contacts = False  # nothing is written: nothing to protect

    @cached_property
    def _memory(self) -> _PullMemory:
        return _PullMemory()

    def known_mappings(self, object_ids: Collection[str]) -> dict[str, StoredMapping]:
        mappings = self._memory.mappings
        return {i: mappings[i] for i in object_ids if i in mappings}

    def known_contacts(
        self, keys: Collection[str], contact_ids: Collection[int]
    ) -> list[PulledContact]:
        memory = self._memory
        by_key = (memory.by_key.get(key) for key in keys)
        by_id = (memory.by_id.get(contact_id) for contact_id in contact_ids)
        found = {id(c): c for c in (*by_key, *by_id) if c is not None}
        return list(found.values())

    async def write(self, session: AsyncSession, page: PulledPage, now: datetime) -> None:
        # New contacts keep their temporary (negative) ids: no database gives them one.
        memory = self._memory
        for contact in page.creates:
            contact.new = False
            contact.old = {}
            memory.by_key[contact.key] = contact
            memory.by_id[contact.id] = contact
        for item in page.matched:
            assert item.contact is not None
            memory.mappings.setdefault(
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


class DryRun(RunMode):
    """The run's pages and batches are read in transactions rolled back at their end; the
    pull remembers what it would have created so later pages see it; orders are answered as
    if every object succeeded (``dry-run:<contact id>`` for a new object). No run row, no
    lease, no cursor, no error row."""

    records = False
    pull_store = _RememberingPullStore
    push_store = _CountingPushStore

    def transaction(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> AbstractAsyncContextManager[AsyncSession]:
        return _rolled_back(sessions)

    async def send(self, exchange: BaseDataExchange, order: Order) -> OrderResult:
        return _succeeded((*order.creates, *order.updates, *order.deletes))

    async def add_to_audience(
        self, exchange: BaseDataExchange, audience: Audience, items: Sequence[OrderItem]
    ) -> OrderResult:
        return _succeeded(items)
