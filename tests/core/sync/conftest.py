from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from sqlalchemy import func, inspect, select, text

from leadbridge import CoreContainer
from leadbridge.contacts import ContactRow
from leadbridge.db import utcnow
from leadbridge.sync import SyncEngine, SyncLeaseRow, SyncObjectMappingRow, SyncRunRow
from leadbridge.testing import MemoryIntegration, define_memory_fields


@pytest_asyncio.fixture
async def store(container: CoreContainer) -> AsyncIterator[CoreContainer]:
    """The container with the memory integration's custom fields defined."""
    await define_memory_fields(container.custom_field_service())
    yield container


async def hold_lease(
    store: CoreContainer,
    holder: str,
    *,
    instance_id: str | None = None,
    scope: str | None = None,
) -> int:
    """A running run of ``memory`` holding the lease, heartbeat fresh, as another process
    leaves them; returns the run's id."""
    now = utcnow()
    async with store.session_factory().begin() as session:
        run = SyncRunRow(
            integration="memory",
            trigger="schedule",
            options={},
            status="running",
            started_at=now,
            heartbeat_at=now,
            holder=holder,
            cancel_requested=False,
        )
        session.add(run)
        await session.flush()
        await session.merge(
            SyncLeaseRow(
                integration="memory",
                run_id=run.id,
                holder=holder,
                instance_id=instance_id,
                process_scope=scope,
                acquired_at=now,
                heartbeat_at=now,
            )
        )
    return run.id


def make_engine(container: CoreContainer, **kwargs: Any) -> SyncEngine:
    kwargs.setdefault("heartbeat_interval", 0.05)
    return SyncEngine(
        container.session_factory(),
        container.contact_service(),
        container.change_log_service(),
        container.event_bus(),
        custom_fields=container.custom_field_service(),
        **kwargs,
    )


@pytest_asyncio.fixture
async def engine(store: CoreContainer) -> SyncEngine:
    return make_engine(store)


def person(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "emailAddress": f"user{i}@example.com",
        "firstName": f"First{i}",
        "lastName": f"Last{i}",
        "score": str(i),
        **extra,
    }


def seeded(n: int, *, page_size: int = 10, **kwargs: Any) -> MemoryIntegration:
    remote = MemoryIntegration(page_size=page_size, **kwargs)
    for i in range(n):
        remote.add(person(i))
    return remote


async def snapshot(container: CoreContainer) -> dict[str, Any]:
    """Contacts and mappings without ids or times: what two equivalent runs must agree on."""
    async with container.session_factory()() as session:
        contacts = (
            await session.execute(
                select(
                    ContactRow.id,
                    ContactRow.email,
                    ContactRow.first_name,
                    ContactRow.last_name,
                    ContactRow.fields,
                )
            )
        ).all()
        emails = {cid: email for cid, email, *_ in contacts}
        mappings = (
            await session.execute(
                select(
                    SyncObjectMappingRow.integration,
                    SyncObjectMappingRow.object,
                    SyncObjectMappingRow.integration_id,
                    SyncObjectMappingRow.contact_id,
                )
            )
        ).all()
    return {
        "contacts": sorted(
            (e, f, la, sorted((fields or {}).items())) for _i, e, f, la, fields in contacts
        ),
        "mappings": sorted((i, o, iid, emails.get(cid)) for i, o, iid, cid in mappings),
    }


async def row_counts(container: CoreContainer) -> dict[str, int]:
    engine = container.engine()
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda c: inspect(c).get_table_names())
        return {
            n: int((await conn.execute(text(f'SELECT count(*) FROM "{n}"'))).scalar() or 0)
            for n in sorted(names)
            if n != "alembic_version"
        }


async def count(container: CoreContainer, model: Any, *where: Any) -> int:
    async with container.session_factory()() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)
