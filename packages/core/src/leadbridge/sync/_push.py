"""Push: change log since the push cursor → orders → results stored as mappings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..contacts import CONTACT_CREATED, CONTACT_DELETED, CORE_FIELDS, ContactChangeRow, ContactRow
from ..db import chunked
from ._exchange import BaseDataExchange, ObjectResult, Order, OrderItem, OrderResult
from ._manual import ObjectManual
from ._models import ERRORS, MAPPINGS, SyncErrorRow, SyncObjectMappingRow
from ._options import ContactFilter, SyncFailure
from ._pull import PageOutcome

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


@dataclass
class PlannedOrder:
    order: Order
    #: mapping ids to drop: contacts deleted here, the integration cannot delete
    forget: list[int] = field(default_factory=list)


class Pusher:
    """Reads what changed and turns it into orders for one integration."""

    def __init__(
        self,
        *,
        integration: str,
        objects: Sequence[ObjectManual],
        exchange: BaseDataExchange,
        session_factory: async_sessionmaker[AsyncSession],
        run_id: int | None,
        full: bool,
        ids: frozenset[str] | None,
        create_filter: ContactFilter | None,
        dry_run: bool,
        batch_size: int = BATCH,
    ) -> None:
        self._integration = integration
        self._objects = [o for o in objects if o.push_fields]
        self._exchange = exchange
        self._sf = session_factory
        self._run_id = run_id
        self._full = full
        self._ids = ids
        self._filter = create_filter
        self._dry_run = dry_run
        self._batch = batch_size
        self._unresolved: set[int] = set()

    @property
    def active(self) -> bool:
        return bool(self._objects) and self._exchange.supports_push

    # -- reading ---------------------------------------------------------------------------

    async def load_unresolved(self, objects: Sequence[str]) -> None:
        """Remember the contacts whose push of ``objects`` failed and is not resolved yet."""
        async with self._sf() as session:
            retry = (
                await session.scalars(
                    select(SyncErrorRow.contact_id)
                    .where(
                        SyncErrorRow.integration == self._integration,
                        SyncErrorRow.direction == "push",
                        SyncErrorRow.object.in_(objects),
                        SyncErrorRow.resolved_at.is_(None),
                        SyncErrorRow.contact_id.is_not(None),
                    )
                    .distinct()
                )
            ).all()
        self._unresolved = {int(c) for c in retry if c is not None}

    async def batches(self, position: int, end: int) -> AsyncIterator[PushBatch]:
        """Batches of contacts to push, from the change log (or every contact when full)."""
        me = self._integration
        await self.load_unresolved([o.object for o in self._objects])
        for chunk in chunked(sorted(self._unresolved), self._batch):
            yield PushBatch(changed=dict.fromkeys(chunk))
        if self._full:
            after = 0
            while True:
                async with self._sf() as session:
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
        cc = _CHANGES.c  # Core columns: plain rows, no ORM loading
        while position < end:
            # Rows this integration wrote (its pulls) are skipped in SQL: after a large pull
            # the log is mostly those, and reading them would cost as much as the pull.
            async with self._sf() as session:
                rows = (
                    await session.execute(
                        select(cc.id, cc.contact_id, cc.field)
                        .where(cc.id > position, cc.id <= end, cc.source != me)
                        .order_by(cc.id)
                        .limit(self._batch)
                    )
                ).all()
                window = rows[-1][0] if len(rows) == self._batch else end
                batch = PushBatch(position=window)
                latest: dict[tuple[int, str], int] = {}
                created: dict[int, int] = {}
                for row_id, cid, name in rows:
                    if name == CONTACT_CREATED:
                        created[cid] = row_id
                    elif name == CONTACT_DELETED:
                        batch.deleted.add(cid)
                    else:
                        latest[(cid, name)] = row_id
                # A field this integration changed after us already holds our value there
                # (it came from the integration): pushing it back would be an echo.
                echoes: dict[tuple[int, str], int] = {}
                cids = sorted({cid for cid, _n in latest} | set(created))
                for chunk in chunked(cids):
                    found = await session.execute(
                        select(cc.contact_id, cc.field, func.max(cc.id))
                        .where(
                            cc.id > position,
                            cc.id <= window,
                            cc.source == me,
                            cc.field != CONTACT_CREATED,
                            cc.contact_id.in_(chunk),
                        )
                        .group_by(cc.contact_id, cc.field)
                    )
                    echoes.update(((cid, name), last) for cid, name, last in found.all())
            for (cid, name), row_id in latest.items():
                if echoes.get((cid, name), 0) < row_id:
                    fields = batch.changed.setdefault(cid, set())
                    if fields is not None:
                        fields.add(name)
            for cid in created:
                batch.changed[cid] = None  # created here: every field, but later echoes
            for (cid, name), last in echoes.items():
                row_id = created.get(cid)
                if row_id is not None and last > max(row_id, latest.get((cid, name), 0)):
                    batch.excluded.setdefault(cid, set()).add(name)
            position = window
            yield batch

    # -- planning --------------------------------------------------------------------------

    async def plan(self, session: AsyncSession, batch: PushBatch) -> list[PlannedOrder]:
        if not batch.changed and not batch.deleted:
            return []
        contacts: dict[int, dict[str, Any]] = {}
        ct = ContactRow.__table__
        m = MAPPINGS.c
        maps: dict[tuple[str, int], list[tuple[int, str, datetime | None]]] = {}
        # One query per chunk: the contacts with their mappings of this integration.
        joined = ct.outerjoin(
            MAPPINGS, (m.contact_id == ct.c.id) & (m.integration == self._integration)
        )
        columns = (
            ct.c.id,
            ct.c.fields,
            *(ct.c[c] for c in CORE_FIELDS),
            m.id.label("mapping_id"),
            m.object,
            m.integration_id,
            m.deleted_at,
        )
        for chunk in chunked(sorted(batch.changed)):
            rows = await session.execute(
                select(*columns).select_from(joined).where(ct.c.id.in_(chunk))
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
            for mid, obj, cid, iid, at in (
                await session.execute(
                    select(m.id, m.object, m.contact_id, m.integration_id, m.deleted_at).where(
                        m.integration == self._integration, m.contact_id.in_(chunk)
                    )
                )
            ).all():
                maps.setdefault((obj, cid), []).append((mid, iid, at))
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
        for cid, changed in batch.changed.items():
            values = contacts.get(cid)
            if values is None:
                continue  # deleted since; its @deleted row decides
            mapped = maps.get((manual.object, cid), [])
            live = [iid for _mid, iid, gone in mapped if gone is None]
            if live:
                if changed is None:
                    # Every field (a creation here, a retry, a full sync): the values held,
                    # never blanks over what the integration has.
                    skip = batch.excluded.get(cid, ())
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
                    OrderItem(cid, payload, iid) for iid in live if ids is None or iid in ids
                )
            elif not mapped and can_create:
                payload = {
                    f.integration_field: values[f.internal_field]
                    for f in fields
                    if values.get(f.internal_field) is not None
                }
                creates.append(OrderItem(cid, payload))
        if creates and self._filter is not None:
            allowed = await self._allowed(session, [c.contact_id for c in creates])
            creates = [c for c in creates if c.contact_id in allowed]
        for cid in batch.deleted:
            if cid in contacts:
                continue
            for mid, iid, gone in maps.get((manual.object, cid), []):
                if self._exchange.supports_delete and gone is None and ids is None:
                    deletes.append(OrderItem(cid, {}, iid))
                elif ids is None:
                    forget.append(mid)
        return PlannedOrder(Order(manual.object, creates, updates, deletes), forget)

    async def _allowed(self, session: AsyncSession, cids: Sequence[int]) -> set[int]:
        assert self._filter is not None
        allowed: set[int] = set()
        for chunk in chunked(cids):
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

    # -- results ---------------------------------------------------------------------------

    async def store(
        self,
        session: AsyncSession,
        planned: PlannedOrder,
        result: OrderResult,
        now: datetime,
    ) -> PageOutcome:
        out = PageOutcome()
        order = planned.order
        out.counters.api_calls += result.api_calls
        by_pair: dict[tuple[int, str | None], ObjectResult] = {}
        by_contact: dict[int, ObjectResult] = {}
        for res in result.results:
            by_pair[(res.contact_id, res.integration_id)] = res
            by_contact.setdefault(res.contact_id, res)
        m = SyncObjectMappingRow
        new_maps: dict[str, dict[str, Any]] = {}
        touched: list[dict[str, Any]] = []
        dropped: list[int] = list(planned.forget)
        failures: list[SyncFailure] = []
        attempted: set[int] = set()

        def failed(item: OrderItem, reason: str) -> None:
            failures.append(
                SyncFailure(
                    direction="push",
                    object=order.object,
                    message=reason,
                    integration_id=item.integration_id,
                    contact_id=item.contact_id,
                    run_id=self._run_id,
                )
            )

        for item in order.creates:
            attempted.add(item.contact_id)
            created = by_contact.get(item.contact_id)
            if created is None:
                failed(item, "the integration returned no result")
            elif not created.ok or not created.integration_id:
                failed(item, created.error or "the integration returned no id for the new object")
            else:
                new_maps[created.integration_id] = {
                    "integration": self._integration,
                    "object": order.object,
                    "integration_id": created.integration_id,
                    "contact_id": item.contact_id,
                    "integration_modified_at": created.modified_at,
                    "last_synced_at": now,
                    "created_at": now,
                }
        stamp_ids: list[tuple[str, datetime | None]] = []
        for item in order.updates:
            attempted.add(item.contact_id)
            r = by_pair.get((item.contact_id, item.integration_id))
            if r is None:
                failed(item, "the integration returned no result")
            elif not r.ok:
                failed(item, r.error or "failed")
            else:
                assert item.integration_id is not None
                stamp_ids.append((item.integration_id, r.modified_at))
        gone_ids: list[str] = []
        for item in order.deletes:
            attempted.add(item.contact_id)
            r = by_pair.get((item.contact_id, item.integration_id))
            if r is None or not r.ok:
                failed(
                    item,
                    (r.error if r is not None else None) or "the integration returned no result",
                )
            else:
                assert item.integration_id is not None
                gone_ids.append(item.integration_id)
        out.counters.pushed += len(order) - len(failures)
        out.counters.failed += len(failures)
        out.failures = failures

        if self._dry_run:
            return out
        if new_maps:
            # The integration may answer a create with an object it already had (matched by
            # email): repoint that mapping instead of inserting a duplicate.
            existing: dict[str, int] = {}
            for chunk in chunked(list(new_maps)):
                existing.update(
                    (
                        await session.execute(
                            select(m.integration_id, m.id).where(
                                m.integration == self._integration,
                                m.object == order.object,
                                m.integration_id.in_(chunk),
                            )
                        )
                    ).all()
                )
            fresh = [v for k, v in new_maps.items() if k not in existing]
            if fresh:
                await session.execute(insert(MAPPINGS), fresh)
            for iid, mid in existing.items():
                v = new_maps[iid]
                touched.append(
                    {
                        "id": mid,
                        "contact_id": v["contact_id"],
                        "last_synced_at": now,
                        "deleted_at": None,
                    }
                )
            if touched:
                await session.execute(update(m), touched)
        if stamp_ids:
            table = MAPPINGS
            # One executemany by the unique (integration, object, integration_id) key.
            await session.execute(
                update(table)
                .where(
                    table.c.integration == self._integration,
                    table.c.object == order.object,
                    table.c.integration_id == bindparam("iid"),
                )
                .values(
                    last_synced_at=now,
                    integration_modified_at=func.coalesce(
                        bindparam("seen", type_=table.c.integration_modified_at.type),
                        table.c.integration_modified_at,
                    ),
                ),
                [{"iid": iid, "seen": at} for iid, at in stamp_ids],
            )
        if gone_ids:
            for chunk in chunked(gone_ids):
                await session.execute(
                    delete(m).where(
                        m.integration == self._integration,
                        m.object == order.object,
                        m.integration_id.in_(chunk),
                    )
                )
        for id_chunk in chunked(dropped):
            await session.execute(delete(m).where(m.id.in_(id_chunk)))
        resolve = sorted(attempted & self._unresolved)
        for cid_chunk in chunked(resolve):
            await session.execute(
                update(SyncErrorRow)
                .where(
                    SyncErrorRow.integration == self._integration,
                    SyncErrorRow.direction == "push",
                    SyncErrorRow.object == order.object,
                    SyncErrorRow.resolved_at.is_(None),
                    SyncErrorRow.contact_id.in_(cid_chunk),
                )
                .values(resolved_at=now)
            )
        if failures and self._run_id is not None:
            await session.execute(
                insert(ERRORS),
                [f.to_row(self._integration, now) for f in failures],
            )
            self._unresolved.update(f.contact_id for f in failures if f.contact_id is not None)
        return out
