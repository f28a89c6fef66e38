"""What every benchmark shares: the result record, memory and machine figures."""

from __future__ import annotations

import json
import os
import platform
import resource
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

SCALES = ("smoke", "full")


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def machine() -> str:
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores, {mem_gib:.0f} GiB, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}"
    )


class Stopwatch:
    seconds: float = 0.0


@contextmanager
def stopwatch() -> Iterator[Stopwatch]:
    watch = Stopwatch()
    start = time.perf_counter()
    try:
        yield watch
    finally:
        watch.seconds = time.perf_counter() - start


@dataclass(frozen=True)
class RawRows:
    """Rows for :func:`raw_floor_seconds`: plain Python values (datetimes aware, JSON columns
    as dicts or lists), one tuple per row in ``columns`` order."""

    table: str
    columns: Sequence[str]
    rows: Sequence[tuple[Any, ...]]


def _sqlite_value(value: Any) -> Any:
    # What SQLAlchemy stores: naive UTC text for datetimes, JSON text for documents.
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def _pg_value(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, dict | list) else value


async def raw_floor_seconds(database_url: str, writes: Sequence[RawRows]) -> float:
    """The physical floor of a write: ``writes`` through the bare driver in one transaction
    (``sqlite3`` ``executemany``; asyncpg ``copy_records_to_table``), into emptied tables.
    Values are converted to the driver's form before the clock starts."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        prepared = [(w, [tuple(_sqlite_value(v) for v in row) for row in w.rows]) for w in writes]
        db = sqlite3.connect(str(url.database), isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            with stopwatch() as watch:
                db.execute("BEGIN IMMEDIATE")
                for w, rows in prepared:
                    marks = ", ".join("?" * len(w.columns))
                    db.executemany(
                        f"INSERT INTO {w.table} ({', '.join(w.columns)}) VALUES ({marks})", rows
                    )
                db.execute("COMMIT")
        finally:
            db.close()
        return watch.seconds
    prepared = [(w, [tuple(_pg_value(v) for v in row) for row in w.rows]) for w in writes]
    conn = await asyncpg.connect(url.set(drivername="postgresql").render_as_string(False))
    try:
        with stopwatch() as watch:
            async with conn.transaction():
                for w, rows in prepared:
                    await conn.copy_records_to_table(w.table, records=rows, columns=list(w.columns))
        # COPY does not advance the id sequences: the next benchmark step starts clean anyway.
    finally:
        await conn.close()
    return watch.seconds


def result(
    name: str,
    db: str,
    n: int,
    seconds: float,
    floor_seconds: float | None,
    peak_rss: float | None = None,
    *,
    raw_floor_seconds: float | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One benchmark record, in the shape DESIGN.md "Benchmarks" gives; write paths add
    ``raw_floor_seconds`` (the bare driver) and get ``ratio_to_raw_floor``."""
    record = {
        "name": name,
        "db": db,
        "n": n,
        "seconds": round(seconds, 3),
        "rate_per_s": round(n / seconds) if seconds > 0 else None,
        "floor_seconds": round(floor_seconds, 3) if floor_seconds is not None else None,
        "ratio_to_floor": round(seconds / floor_seconds, 2) if floor_seconds else None,
    }
    if raw_floor_seconds is not None:
        record["raw_floor_seconds"] = round(raw_floor_seconds, 3)
        record["ratio_to_raw_floor"] = (
            round(seconds / raw_floor_seconds, 2) if raw_floor_seconds else None
        )
    return {
        **record,
        "peak_rss_mb": peak_rss if peak_rss is not None else peak_rss_mb(),
        "machine": machine(),
        **extra,
    }
