"""sync_pull: n people from the in-memory integration into an empty store (6 mapped fields).

Floor: the same contacts, change-log rows and mappings bulk-inserted with Core ``insert()``.
Targets (full, SQLite): ≥ 20,000 objects/s, ratio to floor ≤ 2, peak RSS ≤ 300 MB and not
growing with n (the full scale also pulls 10,000 first and reports the RSS after it).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from leadbridge.sync import SyncOptions, SyncStatus

from ._common import peak_rss_mb, result
from ._sync_common import (
    FIELDS,
    SCALES,
    close,
    core_insert_floor,
    engine_for,
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
    finally:
        await close(container)
    return result("sync_pull", db, n, seconds, floor, rss, **extra)


def run(db: str, scale: str, database_url: str) -> dict[str, Any]:
    return asyncio.run(_run(db, scale, database_url))
