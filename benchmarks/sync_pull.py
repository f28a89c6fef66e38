"""sync_pull: n people from the in-memory integration into an empty store (6 mapped fields).

Floor: the same contacts, change-log rows and mappings bulk-inserted with Core ``insert()``.
Raw floor: the same rows through the bare driver (``sqlite3`` ``executemany``; asyncpg
``copy_records_to_table``) in one transaction.
Targets (full, SQLite): ≥ 20,000 objects/s, ratio to floor ≤ 2, peak RSS ≤ 300 MB and not
growing with n (the full scale also pulls 10,000 first and reports the RSS after it).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from leadbridge.contacts import CONTACT_CREATED
from leadbridge.db import utcnow
from leadbridge.sync import SyncOptions, SyncStatus

from ._common import RawRows, peak_rss_mb, raw_floor_seconds, result
from ._sync_common import (
    FIELDS,
    INTEGRATION,
    SCALES,
    close,
    core_insert_floor,
    engine_for,
    make_person,
    open_store,
    reset,
    synthetic,
)


async def pull_seconds(container: Any, n: int) -> float:
    remote = synthetic(n)
    engine = engine_for(container)
    started = time.perf_counter()
    outcome = await engine.run(
        remote.exchange(), remote.manual(only=FIELDS), SyncOptions(pull_only=True)
    )
    seconds = time.perf_counter() - started
    if outcome.status is not SyncStatus.SUCCEEDED or outcome.counters.created != n:
        raise RuntimeError(f"sync_pull: unexpected outcome {outcome.to_dict()}")
    return seconds


def raw_rows(n: int) -> list[RawRows]:
    """What a pull of *n* new people stores (as ``core_insert_floor`` writes it), as rows for
    the bare driver: contacts, their ``@created`` change-log rows, their mappings."""
    now = utcnow()
    contacts, changes, mappings = [], [], []
    for i in range(n):
        p = make_person(i)
        cid = i + 1
        contacts.append(
            (
                cid,
                p["emailAddress"],
                p["emailAddress"].lower(),
                p["firstName"],
                p["lastName"],
                p["companyName"],
                p["city"],
                0,
                {"score": int(p["score"])},
                now,
                now,
            )
        )
        changes.append(
            (
                cid,
                CONTACT_CREATED,
                {"email": p["emailAddress"], "first_name": p["firstName"]},
                now,
                INTEGRATION,
            )
        )
        mappings.append((INTEGRATION, "people", f"p{i}", cid, now, now, now))
    return [
        RawRows(
            "contacts",
            (
                "id",
                "email",
                "email_key",
                "first_name",
                "last_name",
                "company",
                "city",
                "points",
                "fields",
                "created_at",
                "updated_at",
            ),
            contacts,
        ),
        RawRows(
            "contact_changes", ("contact_id", "field", "value", "changed_at", "source"), changes
        ),
        RawRows(
            "sync_object_mappings",
            (
                "integration",
                "object",
                "integration_id",
                "contact_id",
                "integration_modified_at",
                "last_synced_at",
                "created_at",
            ),
            mappings,
        ),
    ]


async def _run(db: str, scale: str, database_url: str) -> dict[str, Any]:
    n = SCALES[scale]
    container = await open_store(database_url)
    extra: dict[str, Any] = {}
    try:
        if scale == "full":
            small = 10_000
            seconds_small = await pull_seconds(container, small)
            extra = {
                "n_small": small,
                "rate_per_s_small": round(small / seconds_small),
                "peak_rss_mb_small": peak_rss_mb(),
            }
            await reset(container)
        seconds = await pull_seconds(container, n)
        rss = peak_rss_mb()
        await reset(container)
        floor = await core_insert_floor(container, n)
        await reset(container)
        raw_floor = await raw_floor_seconds(database_url, raw_rows(n))
        await reset(container)
    finally:
        await close(container)
    return result("sync_pull", db, n, seconds, floor, rss, raw_floor_seconds=raw_floor, **extra)


def run(db: str, scale: str, database_url: str) -> dict[str, Any]:
    return asyncio.run(_run(db, scale, database_url))
