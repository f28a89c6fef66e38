"""Push: change log since the push cursor → one order per object and batch (the push store
stores the results)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Select, Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..contacts import CONTACT_CREATED, CONTACT_DELETED, CORE_FIELDS, ContactChangeRow, ContactRow
from ..db import chunked, id_set
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


#: A contact's changed fields; one shared set per distinct field set of a batch.
ChangedFields = frozenset[str]


@dataclass
class PushBatch:
    """Contacts to push: ``changed`` maps a contact id to its changed fields (``None``: all)."""

    changed: dict[int, ChangedFields | None] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)
    #: for contacts with all fields changed: fields to leave out (echoes)
    excluded: dict[int, set[str]] = field(default_factory=dict)
    #: change-log position to store once the batch is done (``None``: leave the cursor)
    position: int | None = None


#: A row of a contact with one of its mappings (or a deleted contact's mapping alone): the
#: mapping's columns come last, read from the end, so both kinds of row read alike.
_MAPPING_ID, _OBJECT, _OBJECT_ID, _GONE = -4, -3, -2, -1
_ID, _FIELDS = 0, 1
_Row = Sequence[Any]


@dataclass(frozen=True, slots=True)
class _PushField:
    """A pushed field, resolved once per run: where a contact row holds its value."""

    integration_field: str
    internal_field: str
    #: position in a contact row (a core field), ``None`` for a custom field
    position: int | None


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
        # Built once per run: per contact, planning then only reads a row by position.
        core = {name: _FIELDS + 1 + i for i, name in enumerate(CORE_FIELDS)}
        self._push_fields = {
            manual.object: tuple(
                _PushField(f.integration_field, f.internal_field, core.get(f.internal_field))
                for f in manual.push_fields
            )
            for manual in self._objects
        }
        contact, mapping = cast(Table, ContactRow.__table__).c, MAPPINGS.c
        self._contacts_query = select(
            contact.id,
            contact.fields,
            *(contact[c] for c in CORE_FIELDS),
            mapping.id,
            mapping.object,
            mapping.integration_id,
            mapping.deleted_at,
        ).select_from(
            ContactRow.__table__.outerjoin(
                MAPPINGS,
                (mapping.contact_id == contact.id) & (mapping.integration == integration),
            )
        )
        self._gone_query = select(
            mapping.contact_id,
            mapping.id,
            mapping.object,
            mapping.integration_id,
            mapping.deleted_at,
        ).where(mapping.integration == integration)

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
        while position < end:
            # Read in a call of its own: what reading holds is freed before the batch is
            # planned and sent, not kept by this generator while it waits.
            batch = await self._changes(position, end)
            assert batch.position is not None
            position = batch.position
            yield batch

    async def _changes(self, position: int, end: int) -> PushBatch:
        """The next batch of the change log after ``position`` (up to ``end``)."""
        me = self._integration
        change = _CHANGES.c  # Core columns: plain rows, no ORM loading
        # Per field, the last change id by contact: ints only, no object per change.
        latest: dict[str, dict[int, int]] = {}
        created: dict[int, int] = {}
        deleted: set[int] = set()
        first_seen: dict[int, None] = {}  # contacts in the order they changed
        count, window = 0, end
        async with self._sessions() as session:
            # Rows this integration wrote (its pulls) are skipped in SQL: after a large pull
            # the log is mostly those, and reading them would cost as much as the pull.
            rows = await session.execute(
                select(change.id, change.contact_id, change.field)
                .where(change.id > position, change.id <= end, change.source != me)
                .order_by(change.id)
                .limit(self._batch)
            )
            for row_id, contact_id, name in rows:
                count += 1
                window = row_id
                if name == CONTACT_CREATED:
                    created[contact_id] = row_id
                elif name == CONTACT_DELETED:
                    deleted.add(contact_id)
                else:
                    latest.setdefault(name, {})[contact_id] = row_id
                    first_seen[contact_id] = None
            if count < self._batch:
                window = end
            # A field this integration changed after us already holds our value there
            # (it came from the integration): pushing it back would be an echo.
            echoes: dict[str, dict[int, int]] = {}
            contact_ids = sorted(first_seen.keys() | created.keys())
            for chunk in chunked(contact_ids):
                found = await session.execute(
                    select(change.contact_id, change.field, func.max(change.id))
                    .where(
                        change.id > position,
                        change.id <= window,
                        change.source == me,
                        change.field != CONTACT_CREATED,
                        change.contact_id.in_(id_set(session, chunk)),
                    )
                    .group_by(change.contact_id, change.field)
                )
                for contact_id, name, last in found:
                    echoes.setdefault(name, {})[contact_id] = last
        pushed: dict[int, ChangedFields] = {}
        shared: dict[ChangedFields, ChangedFields] = {}
        for name, by_contact in latest.items():
            echoed = echoes.get(name, {})
            for contact_id, row_id in by_contact.items():
                if echoed.get(contact_id, 0) < row_id:
                    held = pushed.get(contact_id)
                    names = frozenset((name,)) if held is None else held | {name}
                    pushed[contact_id] = shared.setdefault(names, names)
        changed: dict[int, ChangedFields | None] = {
            contact_id: pushed[contact_id] for contact_id in first_seen if contact_id in pushed
        }
        batch = PushBatch(changed, deleted, position=window)
        for contact_id in created:
            batch.changed[contact_id] = None  # created here: every field, but later echoes
        for name, echoed in echoes.items():
            by_field = latest.get(name, {})
            for contact_id, last in echoed.items():
                row_id = created.get(contact_id)
                if row_id is not None and last > max(row_id, by_field.get(contact_id, 0)):
                    batch.excluded.setdefault(contact_id, set()).add(name)
        return batch

    # -- planning --------------------------------------------------------------------------

    async def plan(self, session: AsyncSession, batch: PushBatch) -> list[PlannedOrder]:
        if not batch.changed and not batch.deleted:
            return []
        # Each row's plain tuple is kept (values by position), not the row: a tuple of plain
        # values leaves the collector's care, so a batch's contacts add no collection work.
        contacts: dict[int, _Row] = {}
        maps: dict[int, tuple[_Row, ...]] = {}
        for chunk in chunked(sorted(batch.changed)):
            # One parameter per chunk (not one per id): nothing rendered per contact.
            found = self._contacts_query.where(ContactRow.id.in_(id_set(session, chunk)))
            for row in await session.execute(found):
                values = tuple(row)
                contact_id = values[_ID]
                if contact_id not in contacts:
                    contacts[contact_id] = values
                if values[_MAPPING_ID] is not None:
                    maps[contact_id] = (*maps.get(contact_id, ()), values)
        # Deleted contacts are gone from the contacts table: their mappings alone.
        gone = sorted(batch.deleted - contacts.keys())
        for chunk in chunked(gone):
            mappings = self._gone_query.where(MAPPINGS.c.contact_id.in_(id_set(session, chunk)))
            for mapping in await session.execute(mappings):
                held = tuple(mapping)
                maps[held[0]] = (*maps.get(held[0], ()), held)
        planned = []
        for manual in self._objects:
            planned.append(await self._plan_object(session, manual.object, batch, contacts, maps))
        return planned

    async def _plan_object(
        self,
        session: AsyncSession,
        obj: str,
        batch: PushBatch,
        contacts: Mapping[int, _Row],
        maps: Mapping[int, tuple[_Row, ...]],
    ) -> PlannedOrder:
        fields = self._push_fields[obj]
        creates: list[OrderItem] = []
        updates: list[OrderItem] = []
        deletes: list[OrderItem] = []
        forget: list[int] = []
        ids = self._ids
        can_create = self._exchange.supports_create and ids is None
        for contact_id, changed in batch.changed.items():
            row = contacts.get(contact_id)
            if row is None:
                continue  # deleted since; its @deleted row decides
            mapped = [m for m in maps.get(contact_id, ()) if m[_OBJECT] == obj]
            live = [m[_OBJECT_ID] for m in mapped if m[_GONE] is None]
            if live:
                if changed is None:
                    # Every field (a creation here, a retry, a full sync): the values held,
                    # never blanks over what the integration has.
                    payload = _held(row, fields, batch.excluded.get(contact_id, ()))
                else:  # explicit changes, clearing a field included
                    payload = {
                        f.integration_field: _value(row, f)
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
                creates.append(OrderItem(contact_id, _held(row, fields, ())))
        if creates and self._filter is not None:
            allowed = await self._allowed(session, [c.contact_id for c in creates])
            creates = [c for c in creates if c.contact_id in allowed]
        for contact_id in batch.deleted:
            if contact_id in contacts:
                continue
            for mapping in maps.get(contact_id, ()):
                if mapping[_OBJECT] != obj:
                    continue
                if self._exchange.supports_delete and mapping[_GONE] is None and ids is None:
                    deletes.append(OrderItem(contact_id, {}, mapping[_OBJECT_ID]))
                elif ids is None:
                    forget.append(mapping[_MAPPING_ID])
        return PlannedOrder(Order(obj, creates, updates, deletes), forget)

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


def _value(row: _Row, pushed: _PushField) -> Any:
    if pushed.position is not None:
        return row[pushed.position]
    custom = row[_FIELDS]
    return custom.get(pushed.internal_field) if custom else None


def _held(row: _Row, fields: Sequence[_PushField], skip: Collection[str]) -> dict[str, Any]:
    """The contact's values of ``fields`` that are set, but those in ``skip``."""
    payload = {}
    for pushed in fields:
        value = _value(row, pushed)
        if value is not None and pushed.internal_field not in skip:
            payload[pushed.integration_field] = value
    return payload
