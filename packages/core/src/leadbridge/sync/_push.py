"""Push: change log since the push cursor → one order per object and batch (the push store
stores the results)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..contacts import CONTACT_CREATED, CONTACT_DELETED, CORE_FIELDS, ContactChangeRow, ContactRow
from ..db import chunked
from ._exchange import BaseDataExchange, Order, OrderItem
from ._manual import ObjectManual
from ._models import MAPPINGS
from ._options import ContactFilter
from ._push_store import PlannedOrder

_CHANGES = cast(Table, ContactChangeRow.__table__)

#: Change-log rows read per push batch (each batch is one order per object).
BATCH = 2000


def consumer_name(integration: str) -> str:
    """The change-log consumer (``change_log_cursors``) of an integration's push."""
    return f"sync:{integration}"


@dataclass
class PushBatch:
    """Contacts to push: ``changed`` maps a contact id to its changed fields (``None``: all)."""

    changed: dict[int, set[str] | None] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)
    #: for contacts with all fields changed: fields to leave out (echoes)
    excluded: dict[int, set[str]] = field(default_factory=dict)
    #: change-log position to store once the batch is done (``None``: leave the cursor)
    position: int | None = None


class Pusher:
    """Reads what changed and turns it into orders for one integration."""

    def __init__(
        self,
        *,
        integration: str,
        objects: Sequence[ObjectManual],
        exchange: BaseDataExchange,
        session_factory: async_sessionmaker[AsyncSession],
        full: bool,
        ids: frozenset[str] | None,
        create_filter: ContactFilter | None,
        batch_size: int = BATCH,
    ) -> None:
        self._integration = integration
        self._objects = [o for o in objects if o.push_fields]
        self._exchange = exchange
        self._sessions = session_factory
        self._full = full
        self._ids = ids
        self._filter = create_filter
        self._batch = batch_size

    @property
    def active(self) -> bool:
        return bool(self._objects) and self._exchange.supports_push

    # -- reading ---------------------------------------------------------------------------

    @property
    def objects(self) -> list[str]:
        """The objects this push sends orders for."""
        return [manual.object for manual in self._objects]

    async def batches(
        self, position: int, end: int, retry: Collection[int] = ()
    ) -> AsyncIterator[PushBatch]:
        """Batches of contacts to push: ``retry`` first (contacts whose push failed), then the
        change log from ``position`` to ``end`` (or every contact when full)."""
        me = self._integration
        for chunk in chunked(sorted(retry), self._batch):
            yield PushBatch(changed=dict.fromkeys(chunk))
        if self._full:
            after = 0
            while True:
                async with self._sessions() as session:
                    ids = (
                        await session.scalars(
                            select(ContactRow.id)
                            .where(ContactRow.id > after)
                            .order_by(ContactRow.id)
                            .limit(self._batch)
                        )
                    ).all()
                if not ids:
                    break
                after = ids[-1]
                yield PushBatch(changed=dict.fromkeys(ids))
            yield PushBatch(position=end)
            return
        change = _CHANGES.c  # Core columns: plain rows, no ORM loading
        while position < end:
            # Rows this integration wrote (its pulls) are skipped in SQL: after a large pull
            # the log is mostly those, and reading them would cost as much as the pull.
            async with self._sessions() as session:
                rows = (
                    await session.execute(
                        select(change.id, change.contact_id, change.field)
                        .where(change.id > position, change.id <= end, change.source != me)
                        .order_by(change.id)
                        .limit(self._batch)
                    )
                ).all()
                window = rows[-1][0] if len(rows) == self._batch else end
                batch = PushBatch(position=window)
                latest: dict[tuple[int, str], int] = {}
                created: dict[int, int] = {}
                for row_id, contact_id, name in rows:
                    if name == CONTACT_CREATED:
                        created[contact_id] = row_id
                    elif name == CONTACT_DELETED:
                        batch.deleted.add(contact_id)
                    else:
                        latest[(contact_id, name)] = row_id
                # A field this integration changed after us already holds our value there
                # (it came from the integration): pushing it back would be an echo.
                echoes: dict[tuple[int, str], int] = {}
                contact_ids = sorted({contact_id for contact_id, _n in latest} | set(created))
                for chunk in chunked(contact_ids):
                    found = await session.execute(
                        select(change.contact_id, change.field, func.max(change.id))
                        .where(
                            change.id > position,
                            change.id <= window,
                            change.source == me,
                            change.field != CONTACT_CREATED,
                            change.contact_id.in_(chunk),
                        )
                        .group_by(change.contact_id, change.field)
                    )
                    echoes.update(
                        ((contact_id, name), last) for contact_id, name, last in found.all()
                    )
            for (contact_id, name), row_id in latest.items():
                if echoes.get((contact_id, name), 0) < row_id:
                    fields = batch.changed.setdefault(contact_id, set())
                    if fields is not None:
                        fields.add(name)
            for contact_id in created:
                batch.changed[contact_id] = None  # created here: every field, but later echoes
            for (contact_id, name), last in echoes.items():
                row_id = created.get(contact_id)
                if row_id is not None and last > max(row_id, latest.get((contact_id, name), 0)):
                    batch.excluded.setdefault(contact_id, set()).add(name)
            position = window
            yield batch

    # -- planning --------------------------------------------------------------------------

    async def plan(self, session: AsyncSession, batch: PushBatch) -> list[PlannedOrder]:
        if not batch.changed and not batch.deleted:
            return []
        contacts: dict[int, dict[str, Any]] = {}
        contact_table = ContactRow.__table__
        mapping = MAPPINGS.c
        maps: dict[tuple[str, int], list[tuple[int, str, datetime | None]]] = {}
        # One query per chunk: the contacts with their mappings of this integration.
        joined = contact_table.outerjoin(
            MAPPINGS,
            (mapping.contact_id == contact_table.c.id) & (mapping.integration == self._integration),
        )
        columns = (
            contact_table.c.id,
            contact_table.c.fields,
            *(contact_table.c[c] for c in CORE_FIELDS),
            mapping.id.label("mapping_id"),
            mapping.object,
            mapping.integration_id,
            mapping.deleted_at,
        )
        for chunk in chunked(sorted(batch.changed)):
            rows = await session.execute(
                select(*columns).select_from(joined).where(contact_table.c.id.in_(chunk))
            )
            for row in rows.all():
                if row.id not in contacts:
                    # By position: a row's values by name cost a lookup each.
                    values = dict(zip(CORE_FIELDS, row[2 : 2 + len(CORE_FIELDS)], strict=True))
                    values.update(row.fields or {})
                    contacts[row.id] = values
                if row.mapping_id is not None:
                    maps.setdefault((row.object, row.id), []).append(
                        (row.mapping_id, row.integration_id, row.deleted_at)
                    )
        # Deleted contacts are gone from the contacts table: their mappings alone.
        gone = sorted(batch.deleted - contacts.keys())
        for chunk in chunked(gone):
            for mapping_id, obj, contact_id, object_id, at in (
                await session.execute(
                    select(
                        mapping.id,
                        mapping.object,
                        mapping.contact_id,
                        mapping.integration_id,
                        mapping.deleted_at,
                    ).where(mapping.integration == self._integration, mapping.contact_id.in_(chunk))
                )
            ).all():
                maps.setdefault((obj, contact_id), []).append((mapping_id, object_id, at))
        planned = []
        for manual in self._objects:
            planned.append(await self._plan_object(session, manual, batch, contacts, maps))
        return planned

    async def _plan_object(
        self,
        session: AsyncSession,
        manual: ObjectManual,
        batch: PushBatch,
        contacts: Mapping[int, Mapping[str, Any]],
        maps: Mapping[tuple[str, int], list[tuple[int, str, datetime | None]]],
    ) -> PlannedOrder:
        fields = manual.push_fields
        creates: list[OrderItem] = []
        updates: list[OrderItem] = []
        deletes: list[OrderItem] = []
        forget: list[int] = []
        ids = self._ids
        can_create = self._exchange.supports_create and ids is None
        for contact_id, changed in batch.changed.items():
            values = contacts.get(contact_id)
            if values is None:
                continue  # deleted since; its @deleted row decides
            mapped = maps.get((manual.object, contact_id), [])
            live = [object_id for _mid, object_id, gone in mapped if gone is None]
            if live:
                if changed is None:
                    # Every field (a creation here, a retry, a full sync): the values held,
                    # never blanks over what the integration has.
                    skip = batch.excluded.get(contact_id, ())
                    payload = {
                        f.integration_field: values[f.internal_field]
                        for f in fields
                        if values.get(f.internal_field) is not None and f.internal_field not in skip
                    }
                else:  # explicit changes, clearing a field included
                    payload = {
                        f.integration_field: values.get(f.internal_field)
                        for f in fields
                        if f.internal_field in changed
                    }
                if not payload:
                    continue
                updates.extend(
                    OrderItem(contact_id, payload, object_id)
                    for object_id in live
                    if ids is None or object_id in ids
                )
            elif not mapped and can_create:
                payload = {
                    f.integration_field: values[f.internal_field]
                    for f in fields
                    if values.get(f.internal_field) is not None
                }
                creates.append(OrderItem(contact_id, payload))
        if creates and self._filter is not None:
            allowed = await self._allowed(session, [c.contact_id for c in creates])
            creates = [c for c in creates if c.contact_id in allowed]
        for contact_id in batch.deleted:
            if contact_id in contacts:
                continue
            for mapping_id, object_id, gone in maps.get((manual.object, contact_id), []):
                if self._exchange.supports_delete and gone is None and ids is None:
                    deletes.append(OrderItem(contact_id, {}, object_id))
                elif ids is None:
                    forget.append(mapping_id)
        return PlannedOrder(Order(manual.object, creates, updates, deletes), forget)

    async def _allowed(self, session: AsyncSession, contact_ids: Sequence[int]) -> set[int]:
        assert self._filter is not None
        allowed: set[int] = set()
        for chunk in chunked(contact_ids):
            if isinstance(self._filter, Select):
                found = await session.scalars(
                    select(ContactRow.id).where(
                        ContactRow.id.in_(chunk), ContactRow.id.in_(self._filter)
                    )
                )
                allowed.update(int(i) for i in found.all())
            else:
                allowed.update(int(i) for i in await self._filter(session, chunk))
        return allowed
