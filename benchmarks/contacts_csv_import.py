"""contacts_csv_import: a CSV file of N contacts through ``ContactCsvImport`` (what
``leadbridge contacts import`` runs): a validation pass, then committed batches of 5,000.

While it runs, another connection writes one row every 50 ms, as the gateway's mutations
would: ``max_write_wait_s`` is the longest such a write waited for the database (on SQLite,
for the write lock; it must stay far below the 30 s busy timeout).

Floor: the file read by ``csv.DictReader`` and the same final rows inserted by a bare
SQLAlchemy Core ``insert()`` executemany in one transaction, into the emptied table.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import time
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from cryptography.fernet import Fernet
from dependency_injector import providers
from sqlalchemy import insert, text

from leadbridge import CoreContainer, Settings, shutdown
from leadbridge.contacts import ContactCsvImport, ContactRow
from leadbridge.testing import truncate_all

from ._common import peak_rss_mb, result, stopwatch

SIZES = {"smoke": 5_000, "full": 550_000}
COLUMNS = ("email", "first_name", "last_name", "company", "city", "tags")


def _write_csv(path: Path, n: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for i in range(n):
            writer.writerow(
                (f"user{i}@example.com", f"First{i}", f"Last{i}", f"Co {i % 997}", "Lyon", "")
            )


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


async def _measure(database_url: str, n: int) -> dict[str, Any]:
    with TemporaryDirectory() as tmp:
        path = Path(tmp) / "contacts.csv"
        _write_csv(path, n)
        settings = Settings(
            database_url=database_url,
            data_dir=Path(tmp),
            secret_key=Fernet.generate_key().decode(),
        )
        container = CoreContainer(settings=providers.Object(settings))
        try:
            specs = await container.custom_field_service().all_fields()
            importer = ContactCsvImport(
                container.contact_service(), container.read_session_factory()
            )
            stop = asyncio.Event()
            probe = asyncio.create_task(_writer(container, stop))
            with stopwatch() as ours:
                res = await importer.run(path, specs)
            stop.set()
            longest_wait = await probe
            assert res.created == n, res
            ours_rss = peak_rss_mb()

            await truncate_all(container.engine())
            now = datetime.now(UTC)
            with stopwatch() as floor:
                with path.open(newline="", encoding="utf-8") as handle:
                    rows = [
                        {
                            "email": r["email"],
                            "email_key": r["email"].lower(),
                            "first_name": r["first_name"],
                            "last_name": r["last_name"],
                            "company": r["company"],
                            "city": r["city"],
                            "points": 0,
                            "fields": {},
                            "created_at": now,
                            "updated_at": now,
                        }
                        for r in csv.DictReader(handle)
                    ]
                async with container.engine().begin() as conn:
                    await conn.execute(insert(ContactRow.__table__), rows)
        finally:
            await shutdown(container)
    return {
        "seconds": ours.seconds,
        "floor": floor.seconds,
        "rss": ours_rss,
        "max_write_wait_s": round(longest_wait, 3),
        "batches": res.batches,
    }


def run(db: str, scale: str, database_url: str) -> dict[str, Any]:
    n = SIZES[scale]
    m = asyncio.run(_measure(database_url, n))
    return result(
        "contacts_csv_import",
        db,
        n,
        m["seconds"],
        m["floor"],
        m["rss"],
        max_write_wait_s=m["max_write_wait_s"],
        batches=m["batches"],
    )
