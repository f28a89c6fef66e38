"""SyncRunRepository: run and error pages with counts, runs by id, mappings of many contacts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert

from leadbridge import CoreContainer
from leadbridge.db import utcnow
from leadbridge.sync import (
    SyncErrorRow,
    SyncObjectMappingRow,
    SyncRunRepository,
    SyncRunRow,
    SyncStatus,
)

REPO = SyncRunRepository()


async def _runs(container: CoreContainer) -> list[int]:
    """Six runs, oldest first: crm alternating succeeded/failed, then two of shop."""
    now = utcnow()
    runs = [
        ("crm", SyncStatus.SUCCEEDED),
        ("crm", SyncStatus.FAILED),
        ("crm", SyncStatus.SUCCEEDED),
        ("crm", SyncStatus.FAILED),
        ("shop", SyncStatus.SUCCEEDED),
        ("shop", SyncStatus.RUNNING),
    ]
    async with container.session_factory().begin() as session:
        ids = (
            await session.scalars(
                insert(SyncRunRow).returning(SyncRunRow.id),
                [
                    {
                        "integration": integration,
                        "trigger": "cli",
                        "status": status.value,
                        "started_at": now + timedelta(seconds=n),
                        "heartbeat_at": now + timedelta(seconds=n),
                        "holder": "test",
                    }
                    for n, (integration, status) in enumerate(runs)
                ],
            )
        ).all()
    return sorted(ids)


async def test_run_pages_filter_and_count(container: CoreContainer) -> None:
    ids = await _runs(container)
    async with container.read_session_factory()() as session:
        page, more = await REPO.page(session, limit=4)
        assert [r.id for r in page] == ids[::-1][:4] and more
        page, more = await REPO.page(session, limit=4, before=page[-1].id)
        assert [r.id for r in page] == [ids[1], ids[0]] and not more
        assert await REPO.count(session) == 6

        failed, more = await REPO.page(session, integration="crm", status=SyncStatus.FAILED)
        assert [r.id for r in failed] == [ids[3], ids[1]] and not more
        assert all(r.status is SyncStatus.FAILED for r in failed)
        assert await REPO.count(session, integration="crm", status=SyncStatus.FAILED) == 2
        assert await REPO.count(session, integration="shop") == 2
        assert await REPO.page(session, integration="nobody") == ([], False)

        found = await REPO.by_ids(session, [ids[5], 10**9, ids[0]])
        assert sorted(found) == [ids[0], ids[5]]
        assert found[ids[5]] == await container.sync_run_service().get(ids[5])
        assert await REPO.by_ids(session, []) == {}


async def test_error_pages_of_one_run(container: CoreContainer) -> None:
    ids = await _runs(container)
    async with container.session_factory().begin() as session:
        await session.execute(
            insert(SyncErrorRow),
            [
                {
                    "run_id": run,
                    "integration": "crm",
                    "object": "person",
                    "direction": "pull",
                    "integration_id": f"{run}-{n}",
                    "message": f"failure {n}",
                    "skipped": n == 2,
                }
                for run in (ids[1], ids[3])
                for n in range(3)
            ],
        )
    async with container.read_session_factory()() as session:
        page, more = await REPO.error_page(session, ids[1], limit=2)
        assert [e.failure.message for e in page] == ["failure 2", "failure 1"] and more
        assert page[0].failure.skipped and page[0].failure.run_id == ids[1]
        assert page[0].failure.created_at is not None
        rest, more = await REPO.error_page(session, ids[1], limit=2, before=page[-1].id)
        assert [e.failure.integration_id for e in rest] == [f"{ids[1]}-0"] and not more
        assert await REPO.error_count(session, ids[1]) == 3
        assert await REPO.error_count(session, ids[0]) == 0
        assert await REPO.error_page(session, ids[0]) == ([], False)


async def test_live_mappings_by_contact(container: CoreContainer) -> None:
    contacts = list(range(1, 2602))  # more contacts than a statement binds parameters for
    async with container.session_factory().begin() as session:
        await session.execute(
            insert(SyncObjectMappingRow),
            [
                {
                    "integration": "crm",
                    "object": "person",
                    "integration_id": f"p{c}",
                    "contact_id": c,
                }
                for c in contacts
            ]
            + [
                {"integration": "crm", "object": "lead", "integration_id": "l1", "contact_id": 1},
                {"integration": "alpha", "object": "x", "integration_id": "x1", "contact_id": 1},
                {
                    "integration": "crm",
                    "object": "person",
                    "integration_id": "gone",
                    "contact_id": 2,
                    "deleted_at": utcnow(),
                },
            ],
        )
    async with container.read_session_factory()() as session:
        found = await REPO.mappings_by_contact(session, [*contacts, 10**9])
        assert len(found) == len(contacts)
        assert [(m.integration, m.object, m.integration_id) for m in found[1]] == [
            ("alpha", "x", "x1"),
            ("crm", "lead", "l1"),
            ("crm", "person", "p1"),
        ]
        assert [m.integration_id for m in found[2]] == ["p2"]  # the deleted one is not live
        assert await REPO.mappings_by_contact(session, []) == {}
