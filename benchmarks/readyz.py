"""Benchmark ``readyz``: the gateway's readiness probe, answered over and over.

The gateway is driven in this process through httpx's ASGI transport (no network: what is
measured is the probe itself). The floor is the least a probe can do: one read-only
connection running ``SELECT 1``. ``uncached`` is the probe as it was before the migration
scripts were kept (``db.current`` per probe: the script directory and entry points re-read).

    python -m benchmarks.readyz [--db sqlite|postgres] [--scale smoke|full]

The target (issue 20): every probe answered within 20 ms over 100 probes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from sqlalchemy import text

from ._common import peak_rss_mb, result
from ._sync_common import open_container

NAME = "readyz"
PROBES = {"smoke": 100, "full": 1_000}
WARMUP = 5


async def _latencies(n: int, probe: Callable[[], Awaitable[None]]) -> list[float]:
    for _ in range(WARMUP):
        await probe()
    out = []
    for _ in range(n):
        start = time.perf_counter()
        await probe()
        out.append(time.perf_counter() - start)
    return out


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


async def _measure(database_url: str, n: int) -> dict[str, Any]:
    from leadbridge import db, shutdown
    from leadbridge.integrations import installed_migration_locations
    from leadbridge_gateway import GatewaySettings, create_app

    container = await open_container(database_url)
    app = create_app(container, GatewaySettings())
    transport = httpx.ASGITransport(app=app)
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://gateway") as client,
        ):

            async def probe() -> None:
                response = await client.get("/readyz")
                assert response.status_code == 200, response.text

            ours = await _latencies(n, probe)
            reader = container.engine().execution_options(**{db.READ_ONLY: True})

            async def floor() -> None:
                async with reader.connect() as conn:
                    await conn.execute(text("SELECT 1"))

            floors = await _latencies(n, floor)

            async def uncached() -> None:
                await db.current(reader, list(installed_migration_locations()))

            old = await _latencies(min(n, 100), uncached)
    finally:
        await shutdown(container)
    return {"ours": ours, "floor": floors, "uncached": old}


def run(db: str, scale: str, database_url: str) -> dict[str, Any]:
    n = PROBES[scale]
    m = asyncio.run(_measure(database_url, n))
    ours, floor, old = m["ours"], m["floor"], m["uncached"]
    return result(
        NAME,
        db,
        n,
        sum(ours),
        sum(floor),
        peak_rss_mb(),
        p50_ms=_ms(statistics.median(ours)),
        p99_ms=_ms(statistics.quantiles(ours, n=100)[98]),
        max_ms=_ms(max(ours)),
        within_20ms=sum(1 for s in ours if s <= 0.020),
        floor_p50_ms=_ms(statistics.median(floor)),
        uncached_p50_ms=_ms(statistics.median(old)),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--scale", choices=["smoke", "full"], default="smoke")
    args = parser.parse_args()
    from . import __main__ as runner

    print(json.dumps(runner.run_one(NAME, args.db, args.scale)))


if __name__ == "__main__":
    main()
