"""contacts_bulk_upsert: N contacts with 5 custom fields through ``ContactService.bulk_upsert``.

Floor: the same final rows inserted by a bare SQLAlchemy Core ``insert()`` executemany in one
transaction, into the emptied table. Raw floor: the same rows through the bare driver
(``sqlite3`` ``executemany``; asyncpg ``copy_records_to_table``), in one transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from cryptography.fernet import Fernet
from dependency_injector import providers
from sqlalchemy import insert

from leadbridge import CoreContainer, Settings, shutdown
from leadbridge.contacts import ContactRow
from leadbridge.testing import truncate_all

from ._common import RawRows, peak_rss_mb, raw_floor_seconds, result, stopwatch

SIZES = {"smoke": 5_000, "full": 100_000}
PLANS = ("free", "pro", "team")


async def define_fields(container: CoreContainer) -> None:
    """The five custom fields: a number, a select, a date, a boolean and a URL."""
    fields = container.custom_field_service()
    await fields.define("employees", "number")
    await fields.define("plan", "select", options=list(PLANS))
    await fields.define("renewal", "date")
    await fields.define("newsletter", "boolean")
    await fields.define("website", "url")


def contact_rows(n: int) -> Iterator[dict[str, Any]]:
    for i in range(n):
        yield {
            "email": f"user{i}@example.com",
            "first_name": f"First{i}",
            "last_name": f"Last{i}",
            "employees": i % 5000,
            "plan": PLANS[i % 3],
            "renewal": f"2027-{1 + i % 12:02d}-{1 + i % 28:02d}",
            "newsletter": i % 2 == 0,
            "website": f"https://site{i}.example.com",
        }


def _floor_rows(n: int) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    out = []
    for raw in contact_rows(n):
        fields = {k: v for k, v in raw.items() if k not in ("email", "first_name", "last_name")}
        out.append(
            {
                "email": raw["email"],
                "email_key": raw["email"],
                "first_name": raw["first_name"],
                "last_name": raw["last_name"],
                "points": 0,
                "fields": fields,
                "created_at": now,
                "updated_at": now,
            }
        )
    return out


async def _measure(database_url: str, n: int) -> dict[str, Any]:
    with TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=database_url,
            data_dir=Path(tmp),
            secret_key=Fernet.generate_key().decode(),
        )
        container = CoreContainer(settings=providers.Object(settings))
        try:
            await define_fields(container)
            with stopwatch() as ours:
                res = await container.contact_service().bulk_upsert(contact_rows(n))
            assert res.created == n and not res.errors, res.errors[:3]
            ours_rss = peak_rss_mb()

            await truncate_all(container.engine())
            rows = _floor_rows(n)
            engine = container.engine()
            with stopwatch() as floor:
                async with engine.begin() as conn:
                    await conn.execute(insert(ContactRow.__table__), rows)

            await truncate_all(engine)
            columns = tuple(rows[0])
            raw = RawRows("contacts", columns, [tuple(r[c] for c in columns) for r in rows])
            del rows
            raw_floor = await raw_floor_seconds(database_url, [raw])
        finally:
            await shutdown(container)
    return {"seconds": ours.seconds, "floor": floor.seconds, "raw": raw_floor, "rss": ours_rss}


def run(db: str, scale: str, database_url: str) -> dict[str, Any]:
    n = SIZES[scale]
    m = asyncio.run(_measure(database_url, n))
    return result(
        "contacts_bulk_upsert",
        db,
        n,
        m["seconds"],
        m["floor"],
        m["rss"],
        raw_floor_seconds=m["raw"],
    )
