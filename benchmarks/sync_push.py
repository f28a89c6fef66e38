"""sync_push: 10,000 contacts changed internally, pushed to the in-memory integration.

Target ≥ 10,000 contacts/s. Floor: one hand-written query joining the change log, contacts and
mappings, the same orders executed by the same in-memory integration, and one executemany
stamping the mappings.
"""

from __future__ import annotations

import asyncio
import gc
import time
from typing import Any

from sqlalchemy import bindparam, select, update

from leadbridge.contacts import ContactChangeRow, ContactRow
from leadbridge.db import utcnow
from leadbridge.sync import (
    Order,
    OrderItem,
    SyncObjectMappingRow,
    SyncOptions,
    SyncStatus,
    consumer_name,
)

from ._common import result
from ._cpu import cpu_figures
from ._sync_common import (
    FIELDS,
    INTEGRATION,
    PAGE,
    close,
    engine_for,
    open_store,
    synthetic,
)

SCALES = {"smoke": 2_000, "full": 10_000}


async def _change_all(container: Any, n: int, tag: str) -> None:
    rows = [{"email": f"person{i}@bench.example.com", "first_name": f"{tag}{i}"} for i in range(n)]
    await container.contact_service().bulk_upsert(rows, source="internal")


async def _floor(container: Any, remote: Any, position: int) -> tuple[float, float]:
    cc, c, m = ContactChangeRow, ContactRow, SyncObjectMappingRow
    gc.collect()
    started, cpu = time.perf_counter(), time.process_time()
    async with container.session_factory()() as session:
        rows = (
            await session.execute(
                select(c.id, c.first_name, m.integration_id)
                .join(cc, cc.contact_id == c.id)
                .join(m, (m.contact_id == c.id) & (m.integration == INTEGRATION))
                .where(cc.id > position, cc.source != INTEGRATION)
            )
        ).all()
    exchange = remote.exchange()
    for start in range(0, len(rows), PAGE):
        chunk = rows[start : start + PAGE]
        await exchange.execute(
            Order(
                "people", updates=[OrderItem(cid, {"firstName": v}, iid) for cid, v, iid in chunk]
            )
        )
    now = utcnow()
    mt = m.__table__
    async with container.session_factory().begin() as session:
        await session.execute(
            update(mt)
            .where(
                mt.c.integration == INTEGRATION,
                mt.c.object == "people",
                mt.c.integration_id == bindparam("iid"),
            )
            .values(last_synced_at=now),
            [{"iid": iid} for _c, _v, iid in rows],
        )
    return time.perf_counter() - started, time.process_time() - cpu


async def _run(db: str, scale: str, database_url: str) -> dict[str, Any]:
    n = SCALES[scale]
    container = await open_store(database_url)
    try:
        remote = synthetic(n)
        manual = remote.manual(only=FIELDS)
        engine = engine_for(container)
        pulled = await engine.run(remote.exchange(), manual)  # mapped, push cursor set
        assert pulled.status is SyncStatus.SUCCEEDED and pulled.counters.created == n

        await _change_all(container, n, "Pushed")
        # Each timed part starts with the setup's garbage collected: otherwise whichever part
        # happens to cross the collector's full-collection threshold pays for the setup.
        gc.collect()
        started, cpu = time.perf_counter(), time.process_time()
        outcome = await engine.run(remote.exchange(), manual, SyncOptions(push_only=True))
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        if outcome.status is not SyncStatus.SUCCEEDED or outcome.counters.pushed != n:
            raise RuntimeError(f"sync_push: unexpected outcome {outcome.to_dict()}")

        position = await container.change_log_service().position(consumer_name(INTEGRATION))
        await _change_all(container, n, "Floor")
        # The floor's orders go to a remote as the push found it (its records not yet
        # touched), not to the one the push just warmed up.
        floor, floor_cpu = await _floor(container, synthetic(n), position)
    finally:
        await close(container)
    return result("sync_push", db, n, seconds, floor, **cpu_figures(cpu, floor_cpu))


def run(db: str, scale: str, database_url: str) -> dict[str, Any]:
    return asyncio.run(_run(db, scale, database_url))
