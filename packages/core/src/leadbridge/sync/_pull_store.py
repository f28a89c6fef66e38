"""A resolved page → contacts, object mappings, errors and ``BatchSynced``, in the caller's
transaction."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..contacts import ContactService
from ..db import BulkInsert, BulkUpdate, chunked, key_set
from ..events import EventBus
from ._events import BatchSynced
from ._exchange import ReportObject
from ._models import ERRORS, MAPPINGS, SyncErrorRow
from ._options import SyncDirection
from ._pulled import PulledContact, PulledItem, PulledPage, StoredMapping
from ._results import SyncFailure


class PullStore:
    """Writes the pages of one object's report; one instance per object and run.

    The puller reads what is stored, this writes what the page changes: data goes one way.
    """

    #: Lock the contacts a page may change while it is resolved (an internal edit committing
    #: meanwhile is then read and judged instead of overwritten).
    locks_contacts = True

    def __init__(
        self,
        *,
        integration: str,
        object_name: str,
        contacts: ContactService,
        event_bus: EventBus,
        run_id: int | None,
        unresolved: bool = False,
    ) -> None:
        self._integration = integration
        self._object = object_name
        self._contacts = contacts
        self._bus = event_bus
        self._run_id = run_id
        # Earlier pull errors of this object get resolved when the object syncs fine: any
        # matched object's when errors were unresolved before the run, else only those of the
        # objects this run recorded a failure for (a first sync has nothing else to resolve).
        self._unresolved = unresolved
        self._failed: set[str] = set()

    def known_mappings(self, object_ids: Collection[str]) -> dict[str, StoredMapping]:
        """Mappings of ``object_ids`` this run made that the database does not hold."""
        return {}

    def known_contacts(
        self, keys: Collection[str], contact_ids: Collection[int]
    ) -> list[PulledContact]:
        """Contacts (by email key or id) this run made that the database does not hold."""
        return []

    async def write(self, session: AsyncSession, page: PulledPage, now: datetime) -> None:
        """Write ``page``: its contacts, its mappings, its failures; sets ``outcome.pairs``."""
        outcome = page.outcome
        ids = await self._contacts.write_batch(
            session,
            creates=[contact.values for contact in page.creates],
            updates=page.updates,
            source=self._integration,
            now=now,
        )
        for contact, contact_id in zip(page.creates, ids, strict=True):
            contact.id = contact_id
        await self._write_mappings(session, page.matched, page.deleted, page.mapped, now)
        if page.matched and (self._unresolved or self._failed):
            await self._resolve_errors(session, [i.obj.integration_id for i in page.matched], now)
        await self._write_failures(session, outcome.failures, now)
        if not self._unresolved and self._run_id is not None:
            self._failed.update(f.integration_id for f in outcome.failures if f.integration_id)
        outcome.pairs = pairs(page.matched)
        if outcome.pairs and self._bus.has_subscribers(BatchSynced):
            await self._bus.publish(
                BatchSynced(
                    session=session,
                    integration=self._integration,
                    object=self._object,
                    run_id=self._run_id,
                    pairs=outcome.pairs,
                )
            )

    async def _write_mappings(
        self,
        session: AsyncSession,
        items: Sequence[PulledItem],
        deleted: Sequence[ReportObject],
        mapped: dict[str, StoredMapping],
        now: datetime,
    ) -> None:
        inserts: list[tuple[Any, ...]] = []
        updates: list[tuple[Any, ...]] = []
        for item in items:
            assert item.contact is not None
            contact_id = item.contact.id
            mapping = mapped.get(item.obj.integration_id)
            # An object whose contact kept a newer value is not in sync until push sends it.
            synced = None if item.kept_internal else now
            if mapping is None or mapping.id is None:
                inserts.append(
                    (
                        self._integration,
                        self._object,
                        item.obj.integration_id,
                        contact_id,
                        item.modified_at,
                        synced,
                        now,
                    )
                )
                continue
            seen = mapping.integration_modified_at
            updates.append(
                (
                    mapping.id,
                    contact_id,
                    item.modified_at if seen is None or item.modified_at > seen else seen,
                    synced
                    if synced is not None or mapping.contact_id != contact_id
                    else mapping.last_synced_at,
                    None,
                )
            )
        for obj in deleted:
            mapping = mapped.get(obj.integration_id)
            if mapping is not None and mapping.id is not None and mapping.deleted_at is None:
                updates.append(
                    (
                        mapping.id,
                        mapping.contact_id,
                        mapping.integration_modified_at,
                        mapping.last_synced_at,
                        now,
                    )
                )
        await _MAPPING_INSERT.execute(session, inserts)
        await _MAPPING_UPDATE.execute(session, updates)

    async def _resolve_errors(
        self, session: AsyncSession, object_ids: Sequence[str], now: datetime
    ) -> None:
        if not self._unresolved:
            object_ids = [i for i in object_ids if i in self._failed]
        error = SyncErrorRow
        for chunk in chunked(object_ids):
            await session.execute(
                update(error)
                .where(
                    error.integration == self._integration,
                    error.object == self._object,
                    error.direction == SyncDirection.PULL,
                    error.resolved_at.is_(None),
                    error.integration_id.in_(key_set(session, chunk)),
                )
                .values(resolved_at=now)
                .execution_options(synchronize_session=False)
            )

    async def _write_failures(
        self, session: AsyncSession, failures: Sequence[SyncFailure], now: datetime
    ) -> None:
        if not failures or self._run_id is None:
            return
        await session.execute(insert(ERRORS), [f.to_row(self._integration, now) for f in failures])


#: New mappings, as ``_write_mappings`` builds their rows.
_MAPPING_INSERT = BulkInsert(
    MAPPINGS,
    (
        "integration",
        "object",
        "integration_id",
        "contact_id",
        "integration_modified_at",
        "last_synced_at",
        "created_at",
    ),
)
#: Stored mappings a page moves on: ``(id, contact_id, integration_modified_at,
#: last_synced_at, deleted_at)``.
_MAPPING_UPDATE = BulkUpdate(
    MAPPINGS,
    "id",
    ("contact_id", "integration_modified_at", "last_synced_at", "deleted_at"),
)


def pairs(items: Sequence[PulledItem]) -> list[tuple[ReportObject, int]]:
    """The objects of a page with the contact each resolved to."""
    return [(item.obj, item.contact.id) for item in items if item.contact is not None]
