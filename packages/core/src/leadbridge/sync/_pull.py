"""Pull: one report page → contacts, mappings, change-log rows, in the caller's transaction."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .._errors import ValidationError
from ..contacts import (
    CONTACT_CREATED,
    CORE_FIELDS,
    ContactChangeRow,
    ContactRow,
    ContactService,
    ContactUpdate,
    FieldSpec,
)
from ..db import chunked
from ..events import EventBus
from ._errors import SyncObjectSkipped
from ._events import BatchSynced
from ._exchange import ReportObject, ReportPage
from ._judge import SyncJudge
from ._manual import ObjectManual
from ._models import ERRORS, MAPPINGS, SyncErrorRow
from ._normalizer import ValueNormalizer
from ._options import SyncCounters, SyncFailure

log = logging.getLogger("leadbridge.sync")

_CHANGES = cast(Table, ContactChangeRow.__table__)

_CORE = tuple(CORE_FIELDS)


@dataclass(slots=True)
class _Contact:
    """A contact as the page sees it: stored values, then the page's changes on top."""

    id: int
    key: str
    values: dict[str, Any]
    fields: dict[str, Any]
    old: dict[str, Any] = field(default_factory=dict)
    new: bool = False
    failed: bool = False


@dataclass(slots=True)
class _Mapping:
    id: int | None
    contact_id: int
    last_synced_at: datetime | None
    integration_modified_at: datetime | None
    deleted_at: datetime | None


@dataclass(slots=True)
class _Item:
    obj: ReportObject
    values: dict[str, Any]
    email: str | None
    key: str | None
    modified_at: datetime
    contact: _Contact | None = None
    outcome: str = "unchanged"
    kept_internal: bool = False


@dataclass
class PageOutcome:
    counters: SyncCounters = field(default_factory=SyncCounters)
    failures: list[SyncFailure] = field(default_factory=list)
    pairs: list[tuple[ReportObject, int]] = field(default_factory=list)


def _locked(stmt: Select[Any], lock: bool) -> Select[Any]:
    return stmt.with_for_update() if lock else stmt


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class ObjectPuller:
    """Applies the pages of one object's report; one instance per object and run."""

    def __init__(
        self,
        *,
        integration: str,
        manual: ObjectManual,
        specs: Mapping[str, FieldSpec],
        normalizer: ValueNormalizer,
        judge: SyncJudge,
        contacts: ContactService,
        event_bus: EventBus,
        run_id: int | None,
        ids: frozenset[str] | None,
        dry_run: bool,
        unresolved: bool = False,
    ) -> None:
        self._integration = integration
        # Earlier pull errors of this object get resolved when the object syncs fine.
        self._unresolved = unresolved
        self._object = manual.object
        self._judge = judge
        self._contacts = contacts
        self._bus = event_bus
        self._run_id = run_id
        self._ids = ids
        self._dry_run = dry_run
        self._pull = [
            (f.integration_field, f.internal_field, normalizer.converter(f.internal_field))
            for f in manual.pull_fields
        ]
        self._external = {f.internal_field: f.integration_field for f in manual.fields}
        email = manual.by_internal("email")
        assert email is not None  # MappingManual.check guarantees it
        self._email_field = email.integration_field
        self._email_pulls = email.pulls
        self._email_conv = normalizer.converter("email")
        self._required = tuple(
            dict.fromkeys([*manual.required, *(s.alias for s in specs.values() if s.is_required)])
        )
        self._never_empty = frozenset(
            f.internal_field for f in manual.pull_fields if specs[f.internal_field].is_required
        )
        # Dry runs write nothing, so later pages must see what earlier pages would have created.
        self._dry_keys: dict[str, _Contact] = {}
        self._dry_maps: dict[str, _Mapping] = {}
        self._dry_ids: dict[int, _Contact] = {}
        self._next_new = 0

    # -- one page --------------------------------------------------------------------------

    async def apply(self, session: AsyncSession, page: ReportPage, now: datetime) -> PageOutcome:
        out = PageOutcome()
        counters = out.counters
        for err in page.errors:
            self._fail(
                out,
                err.integration_id,
                err.field,
                str(err),
                contact_id=err.contact_id,
                skipped=isinstance(err, SyncObjectSkipped),
            )
        latest: dict[str, ReportObject] = {}
        for obj in page.objects:
            if self._ids is not None and obj.integration_id not in self._ids:
                continue
            counters.pulled += 1
            latest.pop(obj.integration_id, None)  # a later copy of an object replaces the first
            latest[obj.integration_id] = obj
        items: dict[str, _Item] = {}
        deleted: list[ReportObject] = []
        for iid, obj in latest.items():
            if obj.deleted:
                deleted.append(obj)
                continue
            item = self._prepare(obj, out)
            if item is not None:
                items[iid] = item
        mapped = await self._mappings(session, [*items, *(o.integration_id for o in deleted)])
        by_key, by_id = await self._load_contacts(session, items.values(), mapped)
        times = await self._internal_times(session, items.values(), mapped, by_key, by_id)

        new_by_key: dict[str, _Contact] = {}
        claimed: dict[str, _Contact] = {}
        for item in items.values():
            self._resolve(item, mapped, by_key, by_id, new_by_key, claimed, times, out)

        creates: list[_Contact] = []
        for contact in new_by_key.values():
            missing = [n for n in self._required if contact.values.get(n) in (None, "", [])]
            if missing:
                contact.failed = True
                for item in items.values():
                    if item.contact is contact:
                        self._fail(
                            out,
                            item.obj.integration_id,
                            missing[0],
                            f"{missing[0]} is required to create a contact",
                        )
            else:
                creates.append(contact)
        updates = []
        for contact in by_id.values():
            changes = {
                n: contact.values[n] for n, was in contact.old.items() if contact.values[n] != was
            }
            if changes:
                old = {n: contact.old[n] for n in changes}
                updates.append(ContactUpdate(contact.id, changes, contact.fields, old))
        ok_items = [i for i in items.values() if i.contact is not None and not i.contact.failed]
        for item in ok_items:
            outcome = item.outcome
            if outcome == "created":
                counters.created += 1
            elif outcome == "updated":
                counters.updated += 1
            else:
                counters.unchanged += 1

        if self._dry_run:
            self._remember_dry(creates, ok_items)
            out.pairs = [(i.obj, i.contact.id) for i in ok_items if i.contact is not None]
            return out

        ids = await self._contacts.write_batch(
            session,
            creates=[c.values for c in creates],
            updates=updates,
            source=self._integration,
            now=now,
        )
        for contact, cid in zip(creates, ids, strict=True):
            contact.id = cid
        await self._write_mappings(session, ok_items, deleted, mapped, now)
        if self._unresolved and ok_items:
            await self._resolve_errors(session, [i.obj.integration_id for i in ok_items], now)
        await self._write_failures(session, out.failures, now)
        self._unresolved = self._unresolved or bool(out.failures)
        out.pairs = [(i.obj, i.contact.id) for i in ok_items if i.contact is not None]
        if out.pairs and self._bus.has_subscribers(BatchSynced):
            await self._bus.publish(
                BatchSynced(
                    session=session,
                    integration=self._integration,
                    object=self._object,
                    run_id=self._run_id,
                    pairs=out.pairs,
                )
            )
        return out

    def _resolve(
        self,
        item: _Item,
        mapped: Mapping[str, _Mapping],
        by_key: Mapping[str, _Contact],
        by_id: Mapping[int, _Contact],
        new_by_key: dict[str, _Contact],
        claimed: dict[str, _Contact],
        times: Mapping[int, Mapping[str, datetime]],
        out: PageOutcome,
    ) -> None:
        """Match ``item`` (mapping → email → create) and merge its values into the contact."""
        iid = item.obj.integration_id
        mapping = mapped.get(iid)
        contact = by_id.get(mapping.contact_id) if mapping is not None else None
        if contact is None and item.key is not None:
            contact = by_key.get(item.key) or claimed.get(item.key) or new_by_key.get(item.key)
            if contact is None:
                assert item.email is not None
                self._next_new -= 1
                contact = _Contact(self._next_new, item.key, {"email": item.email}, {})
                contact.new = True
                contact.values.update(item.values)
                new_by_key[item.key] = contact
                item.contact, item.outcome = contact, "created"
                return
        if contact is None:
            self._fail(out, iid, "email", "cannot match or create a contact without an email")
            return
        if contact.new:
            # A second object of the page with the same email: the same new contact.
            changed = False
            for name, value in item.values.items():
                if contact.values.get(name) != value:
                    contact.values[name] = value
                    changed = True
            item.contact, item.outcome = contact, "updated" if changed else "unchanged"
            return
        synced = mapping if mapping is not None and mapping.contact_id == contact.id else None
        proposed = self._judge_item(item, contact, synced, times.get(contact.id), out.counters)
        new_email = proposed.get("email")
        if new_email is not None:
            nk = new_email.lower()
            owner = by_key.get(nk) or claimed.get(nk) or new_by_key.get(nk)
            if owner is not None and owner is not contact:
                self._fail(
                    out,
                    iid,
                    "email",
                    f"email {new_email!r} belongs to another contact",
                    contact_id=contact.id,
                )
                return
            claimed[nk] = contact
        for name, value in proposed.items():
            if name not in contact.old:
                contact.old[name] = contact.values.get(name)
            contact.values[name] = value
        item.contact, item.outcome = contact, "updated" if proposed else "unchanged"

    # -- steps -----------------------------------------------------------------------------

    def _prepare(self, obj: ReportObject, out: PageOutcome) -> _Item | None:
        raw = obj.fields
        values: dict[str, Any] = {}
        name = ""
        try:
            for ifield, name, conv in self._pull:
                if ifield in raw:
                    values[name] = conv(raw[ifield])
            for name in self._never_empty:
                if name in values and values[name] is None:
                    raise ValidationError(f"{name} is required", field=name)
            if self._email_pulls:
                email = values.get("email")
            else:
                name = "email"
                email = self._email_conv(raw.get(self._email_field))
        except ValidationError as exc:
            self._fail(out, obj.integration_id, exc.field or name, exc.message)
            return None
        key = email.lower() if email else None
        return _Item(obj, values, email, key, _aware(obj.modified_at))

    async def _mappings(self, session: AsyncSession, iids: Sequence[str]) -> dict[str, _Mapping]:
        m = MAPPINGS.c
        found: dict[str, _Mapping] = {}
        for chunk in chunked(iids):
            rows = await session.execute(
                select(
                    m.integration_id,
                    m.id,
                    m.contact_id,
                    m.last_synced_at,
                    m.integration_modified_at,
                    m.deleted_at,
                ).where(
                    m.integration == self._integration,
                    m.object == self._object,
                    m.integration_id.in_(chunk),
                )
            )
            for iid, mid, cid, synced, seen, gone in rows.all():
                found[iid] = _Mapping(mid, cid, synced, seen, gone)
        if self._dry_maps:
            for iid in iids:
                if iid not in found and iid in self._dry_maps:
                    found[iid] = self._dry_maps[iid]
        return found

    async def _load_contacts(
        self,
        session: AsyncSession,
        items: Sequence[_Item] | Any,
        mapped: Mapping[str, _Mapping],
    ) -> tuple[dict[str, _Contact], dict[int, _Contact]]:
        by_key: dict[str, _Contact] = {}
        by_id: dict[int, _Contact] = {}
        keys = list({i.key for i in items if i.key is not None})
        ct = ContactRow.__table__.c  # Core columns: plain rows, no ORM loading
        columns = (ct.id, ct.email_key, ct.fields, *(ct[c] for c in _CORE))
        # Lock the contacts the page may change: an internal edit committing meanwhile is
        # then read (and judged) instead of overwritten. SQLite serializes writers anyway.
        lock = not self._dry_run

        def keep(row: Any) -> None:
            fields = dict(row.fields or {})
            values = dict(zip(_CORE, row[3:], strict=True))  # by position: no name lookups
            values.update(fields)
            contact = _Contact(row.id, row.email_key, values, fields)
            by_key[contact.key] = contact
            by_id[contact.id] = contact

        for chunk in chunked(keys):
            for row in (
                await session.execute(
                    _locked(select(*columns).where(ct.email_key.in_(chunk)), lock)
                )
            ).all():
                keep(row)
        wanted = list(
            {
                m.contact_id
                for m in mapped.values()
                if m.contact_id not in by_id and m.contact_id > 0
            }
        )
        for chunk in chunked(wanted):
            for row in (
                await session.execute(_locked(select(*columns).where(ct.id.in_(chunk)), lock))
            ).all():
                keep(row)
        for key in keys:
            if key not in by_key and key in self._dry_keys:
                contact = self._dry_keys[key]
                by_key[key] = by_id[contact.id] = contact
        for m in mapped.values():
            if m.contact_id < 0 and m.contact_id in self._dry_ids:
                by_id[m.contact_id] = self._dry_ids[m.contact_id]
        return by_key, by_id

    async def _internal_times(
        self,
        session: AsyncSession,
        items: Any,
        mapped: Mapping[str, _Mapping],
        by_key: Mapping[str, _Contact],
        by_id: Mapping[int, _Contact],
    ) -> dict[int, dict[str, datetime]]:
        """When each field of the contacts a page would change last changed internally."""
        candidates: set[int] = set()
        for item in items:
            mapping = mapped.get(item.obj.integration_id)
            contact = by_id.get(mapping.contact_id) if mapping is not None else None
            if contact is None and item.key is not None:
                contact = by_key.get(item.key)
            if contact is None or contact.id < 0:
                continue
            current = contact.values
            for name, value in item.values.items():
                if current.get(name) != value:
                    candidates.add(contact.id)
                    break
        times: dict[int, dict[str, datetime]] = {}
        if not candidates:
            return times
        cc = _CHANGES.c
        ordered = sorted(candidates)
        for chunk in chunked(ordered):
            rows = await session.execute(
                select(cc.contact_id, cc.field, func.max(cc.changed_at))
                .where(cc.contact_id.in_(chunk), cc.source != self._integration)
                .group_by(cc.contact_id, cc.field)
            )
            created: dict[int, datetime] = {}
            for cid, name, at in rows.all():
                if name == CONTACT_CREATED:
                    created[cid] = at
                else:
                    times.setdefault(cid, {})[name] = at
            # A creation (logged without a snapshot) set the fields the contact holds a value
            # in; a later change of a field has its own, later row.
            for cid, at in created.items():
                per = times.setdefault(cid, {})
                for name, value in by_id[cid].values.items():
                    if value is not None and (name not in per or per[name] < at):
                        per[name] = at
        return times

    def _judge_item(
        self,
        item: _Item,
        contact: _Contact,
        mapping: _Mapping | None,
        times: Mapping[str, datetime] | None,
        counters: SyncCounters,
    ) -> dict[str, Any]:
        proposed: dict[str, Any] = {}
        current = contact.values
        field_times = item.obj.field_modified_at
        for name, value in item.values.items():
            was = current.get(name)
            if was == value:
                continue
            if (
                name == "email"
                and was is not None
                and value is not None
                and was.lower() == value.lower()
            ):
                continue  # only the case differs: the same address
            at = item.modified_at
            if field_times:
                ft = field_times.get(self._external[name])
                if ft is not None:
                    at = _aware(ft)
            verdict = self._judge.decide(
                internal_changed_at=times.get(name) if times else None,
                integration_changed_at=at,
                last_synced_at=mapping.last_synced_at if mapping is not None else None,
                integration_seen_at=mapping.integration_modified_at
                if mapping is not None
                else None,
            )
            if verdict.conflict:
                counters.conflicts += 1
                log.info(
                    "sync %s: conflict on %s %s ↔ contact %s, field %s: %s wins",
                    self._integration,
                    self._object,
                    item.obj.integration_id,
                    contact.id,
                    name,
                    verdict.winner,
                )
            if verdict.winner == "integration":
                proposed[name] = value
            else:
                item.kept_internal = True
        return proposed

    async def _write_mappings(
        self,
        session: AsyncSession,
        items: Sequence[_Item],
        deleted: Sequence[ReportObject],
        mapped: Mapping[str, _Mapping],
        now: datetime,
    ) -> None:
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for item in items:
            assert item.contact is not None
            cid = item.contact.id
            mapping = mapped.get(item.obj.integration_id)
            # An object whose contact kept a newer value is not in sync until push sends it.
            synced = None if item.kept_internal else now
            if mapping is None or mapping.id is None:
                inserts.append(
                    {
                        "integration": self._integration,
                        "object": self._object,
                        "integration_id": item.obj.integration_id,
                        "contact_id": cid,
                        "integration_modified_at": item.modified_at,
                        "last_synced_at": synced,
                        "created_at": now,
                    }
                )
                continue
            seen = mapping.integration_modified_at
            updates.append(
                {
                    "id": mapping.id,
                    "contact_id": cid,
                    "integration_modified_at": item.modified_at
                    if seen is None or item.modified_at > seen
                    else seen,
                    "last_synced_at": synced
                    if synced is not None or mapping.contact_id != cid
                    else mapping.last_synced_at,
                    "deleted_at": None,
                }
            )
        for obj in deleted:
            mapping = mapped.get(obj.integration_id)
            if mapping is not None and mapping.id is not None and mapping.deleted_at is None:
                updates.append(
                    {
                        "id": mapping.id,
                        "contact_id": mapping.contact_id,
                        "integration_modified_at": mapping.integration_modified_at,
                        "last_synced_at": mapping.last_synced_at,
                        "deleted_at": now,
                    }
                )
        if inserts:
            await session.execute(insert(MAPPINGS), inserts)
        if updates:
            m = MAPPINGS.c
            await session.execute(
                update(MAPPINGS)
                .where(m.id == bindparam("b_id"))
                .values(
                    contact_id=bindparam("b_contact_id"),
                    integration_modified_at=bindparam("b_integration_modified_at"),
                    last_synced_at=bindparam("b_last_synced_at"),
                    deleted_at=bindparam("b_deleted_at"),
                ),
                [{f"b_{k}": v for k, v in u.items()} for u in updates],
            )

    async def _resolve_errors(
        self, session: AsyncSession, iids: Sequence[str], now: datetime
    ) -> None:
        e = SyncErrorRow
        for chunk in chunked(iids):
            await session.execute(
                update(e)
                .where(
                    e.integration == self._integration,
                    e.object == self._object,
                    e.direction == "pull",
                    e.resolved_at.is_(None),
                    e.integration_id.in_(chunk),
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

    def _fail(
        self,
        out: PageOutcome,
        integration_id: str | None,
        field_name: str | None,
        message: str,
        *,
        contact_id: int | None = None,
        skipped: bool = False,
    ) -> None:
        if skipped:
            out.counters.skipped += 1
        else:
            out.counters.failed += 1
        out.failures.append(
            SyncFailure(
                direction="pull",
                object=self._object,
                message=message,
                integration_id=integration_id,
                contact_id=contact_id if contact_id is not None and contact_id > 0 else None,
                field=field_name,
                run_id=self._run_id,
                skipped=skipped,
            )
        )

    def _remember_dry(self, creates: Sequence[_Contact], items: Sequence[_Item]) -> None:
        for contact in creates:
            contact.new = False
            contact.old = {}
            self._dry_keys[contact.key] = contact
            self._dry_ids[contact.id] = contact
        for item in items:
            assert item.contact is not None
            if item.obj.integration_id not in self._dry_maps:
                self._dry_maps[item.obj.integration_id] = _Mapping(
                    None, item.contact.id, None, item.modified_at, None
                )
