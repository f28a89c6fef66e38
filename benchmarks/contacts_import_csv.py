"""contacts_import_csv: a CSV file of N contacts with 5 custom fields through
``ContactCsvImport`` (what ``leadbridge contacts import`` runs): a validation pass, then
committed batches of 5,000.

Memory must stay flat in the file's size: a smaller file (``n_small`` rows) is imported
first in the same process and ``peak_rss_mb_small`` is the peak after it; ``peak_rss_mb`` is
the peak after the full file (target at full scale: ≤ 200 MB for 1,000,000 rows, and about
the 100,000-row figure).

While it runs, another connection writes one row every 50 ms, as the gateway's mutations
would: ``max_write_wait_s`` is the longest such a write waited for the database (on SQLite,
for the write lock; it must stay far below the 30 s busy timeout).

Floor: the file read by ``csv.DictReader`` and the same final rows inserted by bare
SQLAlchemy Core ``insert()`` executemany into the emptied table, a committed transaction per
5,000 rows as the import commits them (one transaction of 1,000,000 rows is slower on
SQLite than the import itself: its write-ahead log grows with the transaction).
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from cryptography.fernet import Fernet
from dependency_injector import providers
from sqlalchemy import insert, text

from leadbridge import CoreContainer, Settings, shutdown
from leadbridge.contacts import ContactCsvImport, ContactImportResult, ContactRow
from leadbridge.contacts._csv_import import DEFAULT_BATCH_SIZE
from leadbridge.testing import truncate_all

from ._common import peak_rss_mb, result, stopwatch
from .contacts_bulk_upsert import contact_rows, define_fields

SIZES = {"smoke": 5_000, "full": 1_000_000}
SMALL = {"smoke": 1_000, "full": 100_000}
COLUMNS = (
    *("email", "first_name", "last_name"),
    *("employees", "plan", "renewal", "newsletter", "website"),
)


def _write_csv(path: Path, n: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for row in contact_rows(n):
            writer.writerow(str(row[c]).lower() if c == "newsletter" else row[c] for c in COLUMNS)


async def _writer(container: CoreContainer, stop: asyncio.Event) -> float:
    """Insert one tag every 50 ms until ``stop``; the longest wait, in seconds."""
    longest = 0.0
    engine = container.engine()
    i = 0
    while not stop.is_set():
        started = time.perf_counter()
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO tags (name) VALUES (:n)"), {"n": f"probe-{i}"})
        longest = max(longest, time.perf_counter() - started)
        i += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.05)
    return longest


async def _import(container: CoreContainer, path: Path, n: int) -> tuple[float, float, int]:
    """Import ``path`` into an emptied store: seconds, longest probe wait, batches."""
    await truncate_all(container.engine())
    await define_fields(container)
    importer = ContactCsvImport(container.contact_service(), container.read_session_factory())
    stop = asyncio.Event()
    probe = asyncio.create_task(_writer(container, stop))
    res = ContactImportResult()
    try:
        with stopwatch() as ours:
            res = await importer.run(path)
    finally:
        stop.set()
        longest_wait = await probe
    if res.created != n:
        raise RuntimeError(f"contacts_import_csv: unexpected result {res.to_dict()}")
    return ours.seconds, longest_wait, res.batches


def _floor_rows(path: Path) -> Iterator[list[dict[str, Any]]]:
    now = datetime.now(UTC)
    with path.open(newline="", encoding="utf-8") as handle:
        records = csv.DictReader(handle)
        while chunk := list(islice(records, DEFAULT_BATCH_SIZE)):
            yield [
                {
                    "email": r["email"],
                    "email_key": r["email"].lower(),
                    "first_name": r["first_name"],
                    "last_name": r["last_name"],
                    "points": 0,
                    "fields": {
                        "employees": int(r["employees"]),
                        "plan": r["plan"],
                        "renewal": r["renewal"],
                        "newsletter": r["newsletter"] == "true",
                        "website": r["website"],
                    },
                    "created_at": now,
                    "updated_at": now,
                }
                for r in chunk
            ]


async def _measure(database_url: str, n: int, small: int) -> dict[str, Any]:
    with TemporaryDirectory() as tmp:
        small_path = Path(tmp) / "contacts-small.csv"
        path = Path(tmp) / "contacts.csv"
        _write_csv(small_path, small)
        _write_csv(path, n)
        settings = Settings(
            database_url=database_url,
            data_dir=Path(tmp),
            secret_key=Fernet.generate_key().decode(),
        )
        container = CoreContainer(settings=providers.Object(settings))
        try:
            seconds_small, _wait, _batches = await _import(container, small_path, small)
            rss_small = peak_rss_mb()
            seconds, longest_wait, batches = await _import(container, path, n)
            rss = peak_rss_mb()

            await truncate_all(container.engine())
            with stopwatch() as floor:
                for chunk in _floor_rows(path):
                    async with container.engine().begin() as conn:
                        await conn.execute(insert(ContactRow.__table__), chunk)
        finally:
            await shutdown(container)
    return {
        "seconds": seconds,
        "floor": floor.seconds,
        "rss": rss,
        "n_small": small,
        "rate_per_s_small": round(small / seconds_small),
        "peak_rss_mb_small": rss_small,
        "max_write_wait_s": round(longest_wait, 3),
        "batches": batches,
    }


def run(db: str, scale: str, database_url: str) -> dict[str, Any]:
    n = SIZES[scale]
    m = asyncio.run(_measure(database_url, n, SMALL[scale]))
    return result(
        "contacts_import_csv",
        db,
        n,
        m.pop("seconds"),
        m.pop("floor"),
        m.pop("rss"),
        **m,
    )
