"""How a run's effects land: written to the database and sent to the integration."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ._errors import SyncRunError
from ._exchange import Audience, BaseDataExchange, Order, OrderItem, OrderResult
from ._pull_store import PullStore
from ._push_store import PushStore


class RunMode:
    """A run that writes what it computes and sends its orders: the one place a dry run
    (:class:`~leadbridge.sync._dry_run.DryRun`) differs from it.

    The engine, the puller and the pusher compute the same either way; they write through
    :meth:`transaction` and the stores named here, and reach the integration through
    :meth:`send` and :meth:`add_to_audience`.
    """

    #: whether the run is recorded (a ``sync_runs`` row, the lease, cursors, errors)
    records = True
    #: what writes a pulled page, and a pushed order's results
    pull_store: type[PullStore] = PullStore
    push_store: type[PushStore] = PushStore

    def transaction(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> AbstractAsyncContextManager[AsyncSession]:
        """The transaction a page or a batch is written in."""
        return sessions.begin()

    async def send(self, exchange: BaseDataExchange, order: Order) -> OrderResult:
        """Hand ``order`` to the exchange's ``execute``."""
        if not len(order):
            return OrderResult()
        async with contextlib.asynccontextmanager(exchange.around_push)(order):
            result = await exchange.execute(order)
        return _checked(exchange, "execute", result)

    async def add_to_audience(
        self, exchange: BaseDataExchange, audience: Audience, items: Sequence[OrderItem]
    ) -> OrderResult:
        """Hand ``items`` to the exchange's ``add_to_audience``."""
        if not items:
            return OrderResult()
        result = await exchange.add_to_audience(audience, items)
        return _checked(exchange, "add_to_audience", result)


def _checked(exchange: BaseDataExchange, method: str, result: object) -> OrderResult:
    if not isinstance(result, OrderResult):
        raise SyncRunError(
            f"{type(exchange).__name__}.{method} returned {type(result).__name__}, "
            "not an OrderResult"
        )
    return result
