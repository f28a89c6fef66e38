from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any, cast

from sqlalchemy import (
    Table,
    bindparam,
    delete,
    func,
    insert,
    literal,
    null,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .._choice import parse_choice
from .._errors import ConflictError, NotFoundError, ValidationError
from ..db import UTCDateTime, dialect_name, id_set, key_set, utcnow
from ..events import ContactCreated, ContactFieldChanged, EventBus, TagAdded
from ._changelog import CONTACT_CREATED, CONTACT_DELETED, record_changes
from ._contact import Contact
from ._contact_insert import insert_contacts
from ._contact_repository import (
    ContactKeyset,
    ContactQuery,
    ContactRepository,
    contacts_from_rows,
)
from ._custom_field_service import load_custom_fields
from ._fields import (
    CORE_FIELDS,
    READ_ONLY_FIELDS,
    FieldSpec,
    email_key,
    normalize_value,
)
from ._models import ContactChangeRow, ContactRow, ContactTagRow, TagRow
from ._on_row_error import OnRowError
from ._row_plan import RowPlan, stored_columns

_CORE_COLUMNS = tuple(CORE_FIELDS)
_CONTACTS = cast(Table, ContactRow.__table__)
_CHANGES = cast(Table, ContactChangeRow.__table__)


@dataclass(frozen=True)
class ContactPage:
    items: list[Contact]
    next_after: int | None


@dataclass
class RowError:
    """One input row of a bulk upsert that was not written, and why."""

    index: int
    email: Any
    field: str | None
    message: str


@dataclass(frozen=True)
class ContactUpdate:
    """Real changes to one stored contact, for :meth:`ContactService.write_batch`."""

    contact_id: int
    #: field name → new normalized value; only fields whose value really changes
    changes: Mapping[str, Any]
    #: the custom fields as stored (custom fields are written back as one document)
    fields: Mapping[str, Any] = field(default_factory=dict)
    #: field name → previous value, for ``ContactFieldChanged`` subscribers
    old: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class BulkUpsertResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    #: email key → contact id of every written or unchanged row
    ids: dict[str, int] = field(default_factory=dict)


class ContactService:
    """Create, read, update, delete and bulk-upsert contacts.

    Every write validates first and writes nothing on error; every real change writes a
    change-log row in the same transaction. ``source`` says who changed it: ``"internal"`` or
    an integration's name (push sync never echoes a change back to its source).
    """

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        event_bus: EventBus,
        batch_size: int = 1000,
    ) -> None:
        self._session_factory = session_factory
        self._bus = event_bus
        self._batch_size = batch_size
        # Stateless: holds no connection or settings, only the statements.
        self._reads = ContactRepository()

    # -- reads ---------------------------------------------------------------------------

    async def get(self, contact_id: int) -> Contact:
        async with self._session_factory() as session:
            found = await self._reads.by_ids(session, [contact_id], with_tags=True)
        if contact_id not in found:
            raise NotFoundError(f"contact {contact_id} does not exist")
        return found[contact_id]

    async def get_by_email(self, email: str) -> Contact:
        async with self._session_factory() as session:
            found = await self._reads.by_emails(session, [email], with_tags=True)
        if email_key(email) not in found:
            raise NotFoundError(f"no contact with email {email!r}")
        return found[email_key(email)]

    async def list(
        self, *, limit: int = 50, after: int | None = None, tag: str | None = None
    ) -> ContactPage:
        """Contacts by id, ``limit`` at a time; pass ``next_after`` back to continue.

        Filters and other orders: :class:`ContactRepository`, which this reads through.
        """
        if not 1 <= limit <= 10_000:
            raise ValidationError("limit must be between 1 and 10000", field="limit", value=limit)
        start = ContactKeyset(after, after) if after is not None else None
        async with self._session_factory() as session:
            items, more = await self._reads.page(
                session, ContactQuery(tag=tag), limit=limit, after=start, with_tags=True
            )
        return ContactPage(items, items[-1].id if more and items else None)

    async def count(self) -> int:
        async with self._session_factory() as session:
            return await self._reads.count(session)

    # -- writes --------------------------------------------------------------------------

    async def create(
        self,
        email: str,
        *,
        fields: Mapping[str, Any] | None = None,
        tags: Iterable[str] = (),
        source: str = "internal",
        **core: Any,
    ) -> Contact:
        """Create a contact. ``core`` takes core fields by name, ``fields`` custom aliases."""
        async with self._session_factory.begin() as session:
            specs = await _all_specs(session)
            values = _validate({"email": email, **core, **(fields or {})}, specs, creating=True)
            row = _new_row(values)
            session.add(row)
            try:
                await session.flush()
            except IntegrityError as exc:
                raise ConflictError(
                    f"a contact with email {email!r} already exists", field="email"
                ) from exc
            await record_changes(
                session,
                [
                    {
                        "contact_id": row.id,
                        "field": CONTACT_CREATED,
                        "value": None,
                        "source": source,
                    }
                ],
            )
            await self._bus.publish(
                ContactCreated(contact_id=row.id, source=source, session=session)
            )
            if tags:
                await self._tag(session, row.id, tags)
            return (await _to_contacts(session, [row]))[0]

    async def update(
        self, contact_id: int, changes: Mapping[str, Any], *, source: str = "internal"
    ) -> Contact:
        """Change the given fields only; an empty value clears a field."""
        async with self._session_factory.begin() as session:
            row = await session.get(ContactRow, contact_id, with_for_update=True)
            if row is None:
                raise NotFoundError(f"contact {contact_id} does not exist")
            specs = await _all_specs(session)
            values = _validate(changes, specs, creating=False)
            diff = _apply(row, values)
            if diff:
                row.updated_at = utcnow()
                try:
                    await session.flush()
                except IntegrityError as exc:
                    raise ConflictError(
                        f"a contact with email {values.get('email')!r} already exists",
                        field="email",
                    ) from exc
                await record_changes(
                    session,
                    [
                        {"contact_id": row.id, "field": name, "value": new, "source": source}
                        for name, (_old, new) in diff.items()
                    ],
                )
                if self._bus.has_subscribers(ContactFieldChanged):
                    for name, (old, new) in diff.items():
                        await self._bus.publish(
                            ContactFieldChanged(
                                contact_id=row.id,
                                field=name,
                                old=old,
                                new=new,
                                source=source,
                                session=session,
                            )
                        )
            return (await _to_contacts(session, [row]))[0]

    async def delete(self, contact_id: int, *, source: str = "internal") -> None:
        async with self._session_factory.begin() as session:
            row = await session.get(ContactRow, contact_id)
            if row is None:
                raise NotFoundError(f"contact {contact_id} does not exist")
            await record_changes(
                session,
                [
                    {
                        "contact_id": row.id,
                        "field": CONTACT_DELETED,
                        "value": row.email,
                        "source": source,
                    }
                ],
            )
            await session.delete(row)

    async def tag(self, contact_id: int, *tags: str) -> Contact:
        async with self._session_factory.begin() as session:
            if await session.get(ContactRow, contact_id) is None:
                raise NotFoundError(f"contact {contact_id} does not exist")
            await self._tag(session, contact_id, tags)
        return await self.get(contact_id)

    async def untag(self, contact_id: int, *tags: str) -> Contact:
        names = {_tag_name(t) for t in tags}
        async with self._session_factory.begin() as session:
            if await session.get(ContactRow, contact_id) is None:
                raise NotFoundError(f"contact {contact_id} does not exist")
            tag_ids = select(TagRow.id).where(TagRow.name.in_(names))
            await session.execute(
                delete(ContactTagRow).where(
                    ContactTagRow.contact_id == contact_id, ContactTagRow.tag_id.in_(tag_ids)
                )
            )
        return await self.get(contact_id)

    async def _tag(self, session: AsyncSession, contact_id: int, tags: Iterable[str]) -> None:
        names = sorted({_tag_name(t) for t in tags})
        tag_ids = await ensure_tags(session, names)
        existing = set(
            (
                await session.scalars(
                    select(ContactTagRow.tag_id).where(ContactTagRow.contact_id == contact_id)
                )
            ).all()
        )
        new = [(n, tag_ids[n]) for n in names if tag_ids[n] not in existing]
        if new:
            await session.execute(
                insert(ContactTagRow), [{"contact_id": contact_id, "tag_id": i} for _n, i in new]
            )
            for name, _ in new:
                await self._bus.publish(TagAdded(contact_id=contact_id, tag=name, session=session))

    # -- bulk ----------------------------------------------------------------------------

    async def bulk_upsert(
        self,
        rows: Iterable[Mapping[str, Any]],
        *,
        source: str = "internal",
        on_error: OnRowError | str = OnRowError.SKIP,
        session: AsyncSession | None = None,
    ) -> BulkUpsertResult:
        """Insert or update many contacts matched by email, a statement batch at a time.

        Each row maps field names (core names and custom aliases) to values; fields absent
        from a row are left alone. ``on_error=OnRowError.SKIP`` (or ``"skip"``) records
        invalid rows in ``result.errors`` and writes the rest; ``RAISE`` writes nothing when
        any row is invalid. Runs in one transaction (``session``'s, when given).
        """
        policy = parse_choice(OnRowError, on_error, field="on_error")
        if session is not None:
            return await self._bulk(session, rows, source, policy)
        async with self._session_factory.begin() as own:
            return await self._bulk(own, rows, source, policy)

    async def _bulk(
        self,
        session: AsyncSession,
        rows: Iterable[Mapping[str, Any]],
        source: str,
        on_error: OnRowError,
    ) -> BulkUpsertResult:
        plan = RowPlan(await _all_specs(session))
        result = BulkUpsertResult()
        index = 0
        iterator = iter(rows)
        while batch := list(islice(iterator, self._batch_size)):
            await self._bulk_batch(session, batch, index, plan, source, result)
            index += len(batch)
        if on_error is OnRowError.RAISE and result.errors:
            first = result.errors[0]
            more = f" (and {len(result.errors) - 1} more)" if len(result.errors) > 1 else ""
            raise ValidationError(
                f"row {first.index + 1}: {first.message}{more}; nothing was written",
                field=first.field,
                value=first.email,
            )
        return result

    async def _bulk_batch(
        self,
        session: AsyncSession,
        batch: Sequence[Mapping[str, Any]],
        offset: int,
        plan: RowPlan,
        source: str,
        result: BulkUpsertResult,
    ) -> None:
        wanted: dict[str, dict[str, Any]] = {}
        tagging: dict[str, set[str]] = {}
        checked = plan.validate_all(batch)
        for i, raw in enumerate(batch):
            row_tags = None
            if checked is not None:
                values = checked[i]
            else:
                try:
                    row_tags = _tag_list(raw["tags"]) if "tags" in raw else None
                    values = plan.validate(raw)
                except ValidationError as exc:
                    result.errors.append(
                        RowError(offset + i, raw.get("email"), exc.field, exc.message)
                    )
                    continue
            key = email_key(values["email"])
            # Two rows with one email in a batch are one contact: later values win.
            merged = wanted.get(key)
            if merged is None:
                wanted[key] = values
            else:
                merged.update(values)
            if row_tags:
                tagging.setdefault(key, set()).update(row_tags)
        if not wanted:
            return
        existing = {
            r[1]: r
            for r in (
                await session.execute(
                    select(*(_CONTACTS.c[c] for c in stored_columns())).where(
                        _CONTACTS.c.email_key.in_(key_set(session, list(wanted)))
                    )
                )
            ).all()
        }
        creates: builtins.list[dict[str, Any]] = []
        updates: builtins.list[ContactUpdate] = []
        for key, values in wanted.items():
            current = existing.get(key)
            if current is None:
                missing = [a for a in plan.required_new if values.get(a) is None]
                if missing:
                    result.errors.append(
                        RowError(-1, values["email"], missing[0], f"{missing[0]} is required")
                    )
                    continue
                creates.append(values)
                continue
            result.ids[key] = current[0]
            # Matched by email: only its case could differ, which is no change.
            values.pop("email")
            names = tuple(values)
            stored = plan.reader(names)(current)
            given = tuple(values.values())
            if stored == given:
                result.unchanged += 1
                continue
            changed = [
                (name, was, new)
                for name, was, new in zip(names, stored, given, strict=True)
                if was != new
            ]
            updates.append(
                ContactUpdate(
                    current[0],
                    {name: new for name, _was, new in changed},
                    current[2] or {},
                    {name: was for name, was, _new in changed},
                )
            )
        created = await self.write_batch(session, creates=creates, updates=updates, source=source)
        for values, cid in zip(creates, created, strict=True):
            result.ids[email_key(values["email"])] = cid
        result.created += len(created)
        result.updated += len(updates)
        if tagging:
            await _bulk_tag(
                session, {result.ids[k]: t for k, t in tagging.items() if k in result.ids}
            )

    async def write_batch(
        self,
        session: AsyncSession,
        *,
        creates: Sequence[Mapping[str, Any]] = (),
        updates: Sequence[ContactUpdate] = (),
        source: str,
        now: datetime | None = None,
    ) -> builtins.list[int]:
        """Write already validated creates and already diffed updates in ``session``.

        The set-based writer under :meth:`bulk_upsert`, for callers that match contacts
        themselves (the sync engine matches by object mapping first). ``creates`` hold
        normalized values with an ``email`` not stored yet and unique in the batch;
        ``updates`` hold only real changes. Writes one executemany per statement kind, the
        change-log rows (one ``@created`` row per creation, value null; one row per changed
        field) and publishes ``ContactCreated`` / ``ContactFieldChanged`` to subscribers.
        Returns the new ids in the order of ``creates``. An email taken meanwhile by a
        concurrent writer raises ``IntegrityError``: the caller rolls back and retries.
        """
        now = now or utcnow()
        changes: builtins.list[dict[str, Any]] = []
        ids: builtins.list[int] = []
        if creates:
            # Ids are taken up front, so the rows go in as one plain executemany (the cheapest
            # statement either driver has: no RETURNING to read back row by row).
            ids = await _new_contact_ids(session, len(creates))
            await insert_contacts(
                session, ids, creates, [email_key(v["email"]) for v in creates], now
            )
            # One set-based statement logs the creations (``@created``, value null).
            await session.execute(
                insert(_CHANGES).from_select(
                    ["contact_id", "field", "value", "changed_at", "source"],
                    select(
                        _CONTACTS.c.id,
                        literal(CONTACT_CREATED),
                        null(),
                        literal(now, UTCDateTime()),
                        literal(source),
                    ).where(_CONTACTS.c.id.in_(id_set(session, ids))),
                )
            )
        if updates:
            rows_params: builtins.list[dict[str, Any]] = []
            for u in updates:
                row: dict[str, Any] = {"id": u.contact_id, "updated_at": now}
                fields: dict[str, Any] | None = None
                for name, new in u.changes.items():
                    changes.append(
                        {
                            "contact_id": u.contact_id,
                            "field": name,
                            "value": new,
                            "source": source,
                            "changed_at": now,
                        }
                    )
                    if name in CORE_FIELDS:
                        row[name] = new
                        if name == "email":
                            row["email_key"] = email_key(new)
                        continue
                    if fields is None:
                        fields = dict(u.fields)
                    if new is None:
                        fields.pop(name, None)
                    else:
                        fields[name] = new
                if fields is not None:
                    row["fields"] = fields
                rows_params.append(row)
            # One Core executemany per set of changed columns (no ORM per-row bookkeeping).
            groups: dict[tuple[str, ...], builtins.list[dict[str, Any]]] = {}
            for row in rows_params:
                groups.setdefault(tuple(sorted(k for k in row if k != "id")), []).append(
                    {f"b_{k}": v for k, v in row.items()}
                )
            for columns, group in groups.items():
                await session.execute(
                    update(_CONTACTS)
                    .where(_CONTACTS.c.id == bindparam("b_id"))
                    .values({c: bindparam(f"b_{c}") for c in columns}),
                    group,
                )
        await record_changes(session, changes)
        if self._bus.has_subscribers(ContactCreated):
            for cid in ids:
                await self._bus.publish(
                    ContactCreated(contact_id=cid, source=source, session=session)
                )
        if updates and self._bus.has_subscribers(ContactFieldChanged):
            for u in updates:
                for name, new in u.changes.items():
                    await self._bus.publish(
                        ContactFieldChanged(
                            contact_id=u.contact_id,
                            field=name,
                            old=u.old.get(name),
                            new=new,
                            source=source,
                            session=session,
                        )
                    )
        return ids


def _tag_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    return [_tag_name(str(t)) for t in items if str(t).strip()]


async def _new_contact_ids(session: AsyncSession, count: int) -> builtins.list[int]:
    """``count`` ids for new contacts, as the database would give them.

    PostgreSQL: drawn from the table's sequence in one statement. SQLite: the rowids it would
    assign (one past the largest), which no other writer can take: a writing transaction
    holds SQLite's write lock from its ``BEGIN IMMEDIATE``.
    """
    if dialect_name(session) == "postgresql":
        sequence = func.pg_get_serial_sequence(_CONTACTS.name, _CONTACTS.c.id.name)
        draw = select(func.nextval(sequence)).select_from(func.generate_series(1, count))
        return [int(cid) for cid in (await session.scalars(draw)).all()]
    largest = await session.scalar(select(func.max(_CONTACTS.c.id)))
    first = int(largest or 0) + 1
    return list(range(first, first + count))


async def _bulk_tag(session: AsyncSession, tags_by_contact: Mapping[int, set[str]]) -> None:
    tag_ids = await ensure_tags(session, sorted(set().union(*tags_by_contact.values())))
    have = set(
        (
            await session.execute(
                select(ContactTagRow.contact_id, ContactTagRow.tag_id).where(
                    ContactTagRow.contact_id.in_(tags_by_contact)
                )
            )
        ).all()
    )
    pairs = {(cid, tag_ids[t]) for cid, names in tags_by_contact.items() for t in names} - have
    if pairs:
        await session.execute(
            insert(ContactTagRow), [{"contact_id": c, "tag_id": t} for c, t in sorted(pairs)]
        )


def _tag_name(tag: str) -> str:
    name = tag.strip().lower()
    if not name or len(name) > 255:
        raise ValidationError(f"tag {tag!r} is empty or longer than 255 characters", field="tags")
    return name


async def ensure_tags(session: AsyncSession, names: Sequence[str]) -> dict[str, int]:
    """Tag ids by name, creating the tags that do not exist yet."""
    found = dict(
        (await session.execute(select(TagRow.name, TagRow.id).where(TagRow.name.in_(names)))).all()
    )
    missing = [n for n in names if n not in found]
    if missing:
        created = await session.execute(
            insert(TagRow).returning(TagRow.name, TagRow.id), [{"name": n} for n in missing]
        )
        found.update(dict(created.all()))
    return {str(k): int(v) for k, v in found.items()}


async def _all_specs(session: AsyncSession) -> dict[str, FieldSpec]:
    return {**CORE_FIELDS, **{s.alias: s for s in await load_custom_fields(session)}}


def _validate(
    values: Mapping[str, Any], specs: Mapping[str, FieldSpec], *, creating: bool
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, raw in values.items():
        spec = specs.get(name)
        if spec is None:
            if name in READ_ONLY_FIELDS:
                raise ValidationError(f"{name} cannot be written directly", field=name, value=raw)
            raise ValidationError(f"unknown field {name!r}", field=name, value=raw)
        value = normalize_value(spec, raw)
        if value is None and spec.is_required and (creating or name in values):
            raise ValidationError(f"{name} is required", field=name, value=raw)
        out[name] = value
    if creating:
        for spec in specs.values():
            if spec.is_required and out.get(spec.alias) is None:
                raise ValidationError(f"{spec.alias} is required", field=spec.alias)
    return out


def _insert_params(values: Mapping[str, Any], key: str, now: datetime) -> dict[str, Any]:
    params = dict(zip(_CORE_COLUMNS, map(values.get, _CORE_COLUMNS), strict=True))
    params["email_key"] = key
    params["points"] = 0
    params["fields"] = {k: v for k, v in values.items() if v is not None and k not in CORE_FIELDS}
    params["created_at"] = params["updated_at"] = now
    return params


def _new_row(values: Mapping[str, Any]) -> ContactRow:
    params = _insert_params(values, email_key(values["email"]), utcnow())
    return ContactRow(**params)


def _apply(row: ContactRow, values: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    diff: dict[str, tuple[Any, Any]] = {}
    fields = dict(row.fields or {})
    for name, new in values.items():
        if name in CORE_FIELDS:
            old = getattr(row, name)
            if old != new:
                diff[name] = (old, new)
                setattr(row, name, new)
                if name == "email":
                    row.email_key = email_key(new)
        else:
            old = fields.get(name)
            if old != new:
                diff[name] = (old, new)
                if new is None:
                    fields.pop(name, None)
                else:
                    fields[name] = new
    if any(name not in CORE_FIELDS for name in diff):
        row.fields = fields
    return diff


async def _to_contacts(session: AsyncSession, rows: Sequence[ContactRow]) -> list[Contact]:
    return await contacts_from_rows(session, rows, with_tags=True)
