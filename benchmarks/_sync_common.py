"""Shared pieces of the sync benchmarks: a store on the runner's database, synthetic remotes
and the Core ``insert()`` floor (records come from ``_common.result``)."""

from __future__ import annotations

import tempfile
import time
from typing import Any

from cryptography.fernet import Fernet
from dependency_injector import providers
from sqlalchemy import insert

import leadbridge
from leadbridge import CoreContainer, Settings, shutdown
from leadbridge.contacts import CONTACT_CREATED, ContactChangeRow, ContactRow
from leadbridge.db import utcnow
from leadbridge.sync import SyncEngine, SyncObjectMappingRow
from leadbridge.testing import MemoryIntegration, define_memory_fields, truncate_all

#: The six mapped fields of the benchmarks (internal names).
FIELDS = ("email", "first_name", "last_name", "company", "city", "score")
SCALES = {"smoke": 2_000, "full": 100_000}
PAGE = 1000
INTEGRATION = "memory"


def make_person(i: int) -> dict[str, Any]:
    return {
        "emailAddress": f"person{i}@bench.example.com",
        "firstName": f"First{i}",
        "lastName": f"Last{i % 9973}",
        "companyName": f"Company {i % 1000}",
        "city": ("Paris", "Berlin", "Lisbon", "Oslo")[i % 4],
        "score": str(i % 500),
    }


def synthetic(n: int) -> MemoryIntegration:
    """*n* remote people computed on demand: the remote side costs no memory."""
    return MemoryIntegration.synthetic(n, make_person, name=INTEGRATION, page_size=PAGE)


async def open_container(database_url: str) -> CoreContainer:
    """A container on the runner's (fresh, migrated) database, installed plugins included."""
    settings = Settings(
        database_url=database_url,
        data_dir=tempfile.gettempdir(),  # type: ignore[arg-type]
        secret_key=Fernet.generate_key().decode(),
    )
    container = CoreContainer(settings=providers.Object(settings))
    leadbridge.start(container)  # plugins hear the runs, as in the CLI and the worker
    return container


async def open_store(database_url: str) -> CoreContainer:
    """A container on the runner's (migrated) database, emptied, memory fields defined."""
    container = await open_container(database_url)
    await reset(container)
    return container


async def reset(container: CoreContainer) -> None:
    await truncate_all(container.engine())
    await define_memory_fields(container.custom_field_service())


async def close(container: CoreContainer) -> None:
    await shutdown(container)


def engine_for(container: CoreContainer) -> SyncEngine:
    return SyncEngine(
        container.session_factory(),
        container.contact_service(),
        container.change_log_service(),
        container.event_bus(),
        custom_fields=container.custom_field_service(),
    )


async def core_insert_floor(container: CoreContainer, n: int, *, first_id: int = 1) -> float:
    """The plainest way to store what a pull of *n* new people stores: per page of 1,000, one
    transaction of three Core ``insert()`` executemany (contacts, their ``@created`` change-log
    rows, their mappings), ids computed up front. Returns the seconds it took."""
    contacts = ContactRow.__table__
    changes = ContactChangeRow.__table__
    mappings = SyncObjectMappingRow.__table__
    started = time.perf_counter()
    for start in range(0, n, PAGE):
        now = utcnow()
        people = [(i, make_person(i)) for i in range(start, min(start + PAGE, n))]
        contact_rows = [
            {
                "id": first_id + i,
                "email": p["emailAddress"],
                "email_key": p["emailAddress"].lower(),
                "first_name": p["firstName"],
                "last_name": p["lastName"],
                "company": p["companyName"],
                "phone": None,
                "city": p["city"],
                "country": None,
                "points": 0,
                "fields": {"score": int(p["score"])},
                "created_at": now,
                "updated_at": now,
            }
            for i, p in people
        ]
        async with container.session_factory().begin() as session:
            await session.execute(insert(contacts), contact_rows)
            await session.execute(
                insert(changes),
                [
                    {
                        "contact_id": r["id"],
                        "field": CONTACT_CREATED,
                        "value": {"email": r["email"], "first_name": r["first_name"]},
                        "changed_at": now,
                        "source": INTEGRATION,
                    }
                    for r in contact_rows
                ],
            )
            await session.execute(
                insert(mappings),
                [
                    {
                        "integration": INTEGRATION,
                        "object": "people",
                        "integration_id": f"p{i}",
                        "contact_id": first_id + i,
                        "integration_modified_at": now,
                        "last_synced_at": now,
                        "created_at": now,
                    }
                    for i, _p in people
                ],
            )
    return time.perf_counter() - started
