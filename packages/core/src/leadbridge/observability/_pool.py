"""A collector that reads a SQLAlchemy connection pool at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool


class DatabasePoolCollector(Collector):
    """``leadbridge_db_pool_*`` gauges for ``engine``'s pool, read when scraped.

    A pool without a size (SQLite's single connection, ``NullPool``) reports what it has:
    checked-out connections where the pool counts them, nothing otherwise.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        pool = self._engine.sync_engine.pool
        checked_out = getattr(pool, "checkedout", None)
        if callable(checked_out):
            yield GaugeMetricFamily(
                "leadbridge_db_pool_connections_in_use",
                "Database connections checked out of this process's pool.",
                value=float(checked_out()),
            )
        if isinstance(pool, QueuePool):
            yield GaugeMetricFamily(
                "leadbridge_db_pool_size",
                "Connections this process's pool keeps open.",
                value=float(pool.size()),
            )
            yield GaugeMetricFamily(
                "leadbridge_db_pool_overflow",
                "Connections open beyond the pool size (negative: room left before it).",
                value=float(pool.overflow()),
            )
