"""sync_incremental: 1% of the objects changed remotely (1,000 among 100,000 mapped ones).

A normal run (pull then push) after a full pull. Target: ≤ 3% of the full pull's time, so the
cost follows the changes, not the size of the store. Floor: the same 1% applied with Core
``update()`` / ``insert()`` executemany (contacts, change-log rows, mappings).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import bindparam, insert, update

from leadbridge.contacts import ContactChangeRow, ContactRow
from leadbridge.db import utcnow
from leadbridge.sync import SyncObjectMappingRow, SyncOptions, SyncStatus

from ._common import result
from ._sync_common import (
    FIELDS,
    INTEGRATION,
    SCALES,
    close,
    engine_for,
    open_store,
    synthetic,
)


def changed_ids(n: int) -> list[int]:
    step = 100
    return list(range(0, n, step))


async def _floor(container: Any, ids: list[int]) -> float:
    """The same changes, written the plainest way: three executemany in one transaction."""
    contacts = ContactRow.__table__
    mappings = SyncObjectMappingRow.__table__
    started = time.perf_counter()
    now = utcnow()
    async with container.session_factory().begin() as session:
        await session.execute(
            update(contacts)
            .where(contacts.c.email_key == bindparam("k"))
            .values(first_name=bindparam("v"), updated_at=now),
            [{"k": f"person{i}@bench.example.com", "v": f"Floor{i}"} for i in ids],
        )
        await session.execute(
            insert(ContactChangeRow.__table__),
            [
                {
                    "contact_id": i + 1,
                    "field": "first_name",
                    "value": f"Floor{i}",
                    "changed_at": now,
                    "source": INTEGRATION,
                }
                for i in ids
            ],
        )
        await session.execute(
            update(mappings)
            .where(
                mappings.c.integration == INTEGRATION,
                mappings.c.object == "people",
                mappings.c.integration_id == bindparam("iid"),
            )
            .values(last_synced_at=now, integration_modified_at=now),
            [{"iid": f"p{i}"} for i in ids],
        )
    return time.perf_counter() - started


async def _run(db: str, scale: str, database_url: str) -> dict[str, Any]:
    n = SCALES[scale]
    container = await open_store(database_url)
    try:
        remote = synthetic(n)
        manual = remote.manual(only=FIELDS)
        engine = engine_for(container)
        started = time.perf_counter()
        full = await engine.run(remote.exchange(), manual, SyncOptions(pull_only=True))
        full_seconds = time.perf_counter() - started
        assert full.status is SyncStatus.SUCCEEDED and full.counters.created == n
        # The first normal run reads the change log once (all of it this pull's own echo).
        await engine.run(remote.exchange(), manual)

        ids = changed_ids(n)
        for i in ids:
            remote.update(f"p{i}", {"firstName": f"Changed{i}"})
        started = time.perf_counter()
        outcome = await engine.run(remote.exchange(), manual)
        seconds = time.perf_counter() - started
        c = outcome.counters
        if (c.pulled, c.updated, c.pushed, outcome.status) != (
            len(ids),
            len(ids),
            0,
            SyncStatus.SUCCEEDED,
        ):
            raise RuntimeError(f"sync_incremental: unexpected outcome {outcome.to_dict()}")
        floor = await _floor(container, ids)
    finally:
        await close(container)
    return result(
        "sync_incremental",
        db,
        len(ids),
        seconds,
        floor,
        mapped=n,
        full_pull_seconds=round(full_seconds, 3),
        percent_of_full_pull=round(100 * seconds / full_seconds, 2),
    )


def run(db: str, scale: str, database_url: str) -> dict[str, Any]:
    return asyncio.run(_run(db, scale, database_url))
