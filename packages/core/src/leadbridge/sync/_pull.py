"""Pull: one report page resolved against the stored contacts (matched, judged, merged) into
what the pull store writes."""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Row, Select, Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from .._errors import ValidationError
from ..contacts import (
    CONTACT_CREATED,
    CORE_FIELDS,
    ContactChangeRow,
    ContactRow,
    ContactUpdate,
    FieldSpec,
    email_key,
)
from ..db import chunked, id_set, key_set
from ._counters import SyncCounters
from ._errors import SyncObjectSkipped
from ._exchange import ReportObject, ReportPage
from ._judge import SyncJudge
from ._manual import ObjectManual
from ._models import MAPPINGS
from ._normalizer import ValueNormalizer
from ._options import SyncDirection
from ._outcome import PageOutcome
from ._pull_store import PullStore
from ._pulled import ItemOutcome, PulledContact, PulledItem, PulledPage, StoredMapping
from ._results import SyncFailure

log = logging.getLogger("leadbridge.sync")

_CHANGES = cast(Table, ContactChangeRow.__table__)

_CORE = tuple(CORE_FIELDS)


def _locked(stmt: Select[Any], lock: bool) -> Select[Any]:
    return stmt.with_for_update() if lock else stmt


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _stored_contact(
    item: PulledItem,
    mapped: Mapping[str, StoredMapping],
    by_key: Mapping[str, PulledContact],
    by_id: Mapping[int, PulledContact],
) -> PulledContact | None:
    """The stored contact ``item`` matches: its mapping's contact, else its email's."""
    mapping = mapped.get(item.obj.integration_id)
    contact = by_id.get(mapping.contact_id) if mapping is not None else None
    if contact is None and item.key is not None:
        contact = by_key.get(item.key)
    return contact


class ObjectPuller:
    """Resolves the pages of one object's report; one instance per object and run.

    Reads through ``store`` too: what this run wrote, or in a dry run only remembers."""

    def __init__(
        self,
        *,
        integration: str,
        manual: ObjectManual,
        specs: Mapping[str, FieldSpec],
        normalizer: ValueNormalizer,
        judge: SyncJudge,
        store: PullStore,
        run_id: int | None,
        ids: frozenset[str] | None,
    ) -> None:
        self._integration = integration
        self._object = manual.object
        self._judge = judge
        # What this run wrote (or, dry, only remembers) is read through the store.
        self._store = store
        self._run_id = run_id
        self._ids = ids
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
        self._next_new = 0

    # -- one page --------------------------------------------------------------------------

    async def read(self, session: AsyncSession, page: ReportPage) -> PulledPage:
        """Resolve ``page`` against the stored contacts: what the pull store is to write."""
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
        items: dict[str, PulledItem] = {}
        deleted: list[ReportObject] = []
        for object_id, obj in latest.items():
            if obj.deleted:
                deleted.append(obj)
                continue
            item = self._prepare(obj, out)
            if item is not None:
                items[object_id] = item
        mapped = await self._mappings(session, [*items, *(o.integration_id for o in deleted)])
        by_key, by_id = await self._load_contacts(session, items.values(), mapped)
        times = await self._internal_times(session, items.values(), mapped, by_key, by_id)

        new_by_key: dict[str, PulledContact] = {}
        claimed: dict[str, PulledContact] = {}
        for item in items.values():
            self._resolve(item, mapped, by_key, by_id, new_by_key, claimed, times, out)

        creates: list[PulledContact] = []
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
            if outcome is ItemOutcome.CREATED:
                counters.created += 1
            elif outcome is ItemOutcome.UPDATED:
                counters.updated += 1
            else:
                counters.unchanged += 1

        return PulledPage(out, creates, updates, ok_items, deleted, mapped)

    def _resolve(
        self,
        item: PulledItem,
        mapped: Mapping[str, StoredMapping],
        by_key: Mapping[str, PulledContact],
        by_id: Mapping[int, PulledContact],
        new_by_key: dict[str, PulledContact],
        claimed: dict[str, PulledContact],
        times: Mapping[int, Mapping[str, datetime]],
        out: PageOutcome,
    ) -> None:
        """Match ``item`` (mapping → email → create) and merge its values into the contact."""
        object_id = item.obj.integration_id
        mapping = mapped.get(object_id)
        contact = _stored_contact(item, mapped, by_key, by_id)
        if contact is None and item.key is not None:
            contact = claimed.get(item.key) or new_by_key.get(item.key)
            if contact is None:
                assert item.email is not None
                self._next_new -= 1
                contact = PulledContact(self._next_new, item.key, {"email": item.email}, {})
                contact.new = True
                contact.values.update(item.values)
                new_by_key[item.key] = contact
                item.contact, item.outcome = contact, ItemOutcome.CREATED
                return
        if contact is None:
            self._fail(out, object_id, "email", "cannot match or create a contact without an email")
            return
        if contact.new:
            # A second object of the page with the same email: the same new contact.
            changed = False
            for name, value in item.values.items():
                if contact.values.get(name) != value:
                    contact.values[name] = value
                    changed = True
            item.outcome = ItemOutcome.UPDATED if changed else ItemOutcome.UNCHANGED
            item.contact = contact
            return
        synced = mapping if mapping is not None and mapping.contact_id == contact.id else None
        proposed = self._judge_item(item, contact, synced, times.get(contact.id), out.counters)
        new_email = proposed.get("email")
        if new_email is not None:
            new_key = email_key(new_email)
            owner = by_key.get(new_key) or claimed.get(new_key) or new_by_key.get(new_key)
            if owner is not None and owner is not contact:
                self._fail(
                    out,
                    object_id,
                    "email",
                    f"email {new_email!r} belongs to another contact",
                    contact_id=contact.id,
                )
                return
            claimed[new_key] = contact
        for name, value in proposed.items():
            if name not in contact.old:
                contact.old[name] = contact.values.get(name)
            contact.values[name] = value
        item.outcome = ItemOutcome.UPDATED if proposed else ItemOutcome.UNCHANGED
        item.contact = contact

    # -- steps -----------------------------------------------------------------------------

    def _prepare(self, obj: ReportObject, out: PageOutcome) -> PulledItem | None:
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
        key = email_key(email) if email else None
        return PulledItem(obj, values, email, key, _aware(obj.modified_at))

    async def _mappings(
        self, session: AsyncSession, object_ids: Sequence[str]
    ) -> dict[str, StoredMapping]:
        columns = MAPPINGS.c
        found: dict[str, StoredMapping] = {}
        for chunk in chunked(object_ids):
            rows = await session.execute(
                select(
                    columns.integration_id,
                    columns.id,
                    columns.contact_id,
                    columns.last_synced_at,
                    columns.integration_modified_at,
                    columns.deleted_at,
                ).where(
                    columns.integration == self._integration,
                    columns.object == self._object,
                    columns.integration_id.in_(key_set(session, chunk)),
                )
            )
            for object_id, mapping_id, contact_id, synced, seen, gone in rows.all():
                found[object_id] = StoredMapping(mapping_id, contact_id, synced, seen, gone)
        for object_id, remembered in self._store.known_mappings(object_ids).items():
            found.setdefault(object_id, remembered)
        return found

    async def _load_contacts(
        self,
        session: AsyncSession,
        items: Collection[PulledItem],
        mapped: Mapping[str, StoredMapping],
    ) -> tuple[dict[str, PulledContact], dict[int, PulledContact]]:
        by_key: dict[str, PulledContact] = {}
        by_id: dict[int, PulledContact] = {}
        keys = list({i.key for i in items if i.key is not None})
        table = ContactRow.__table__.c  # Core columns: plain rows, no ORM loading
        columns = (table.id, table.email_key, table.fields, *(table[c] for c in _CORE))
        # Lock the contacts the page may change: an internal edit committing meanwhile is
        # then read (and judged) instead of overwritten. SQLite serializes writers anyway.
        lock = self._store.locks_contacts

        def keep(row: Row[Any]) -> None:
            fields = dict(row.fields or {})
            values: dict[str, Any] = dict(zip(_CORE, row[3:], strict=True))  # by position
            values.update(fields)
            stored = PulledContact(row.id, row.email_key, values, fields)
            by_key[stored.key] = stored
            by_id[stored.id] = stored

        for chunk in chunked(keys):
            by_keys = select(*columns).where(table.email_key.in_(key_set(session, chunk)))
            for row in (await session.execute(_locked(by_keys, lock))).all():
                keep(row)
        wanted = list(
            {
                mapping.contact_id
                for mapping in mapped.values()
                if mapping.contact_id not in by_id and mapping.contact_id > 0
            }
        )
        for id_chunk in chunked(wanted):
            by_ids = select(*columns).where(table.id.in_(id_set(session, id_chunk)))
            for row in (await session.execute(_locked(by_ids, lock))).all():
                keep(row)
        unknown_keys = {key for key in keys if key not in by_key}
        unknown_ids = [m.contact_id for m in mapped.values() if m.contact_id not in by_id]
        for remembered in self._store.known_contacts(unknown_keys, unknown_ids):
            by_id[remembered.id] = remembered
            if remembered.key in unknown_keys:
                by_key[remembered.key] = remembered
        return by_key, by_id

    async def _internal_times(
        self,
        session: AsyncSession,
        items: Iterable[PulledItem],
        mapped: Mapping[str, StoredMapping],
        by_key: Mapping[str, PulledContact],
        by_id: Mapping[int, PulledContact],
    ) -> dict[int, dict[str, datetime]]:
        """When each field of the contacts a page would change last changed internally."""
        candidates: set[int] = set()
        for item in items:
            contact = _stored_contact(item, mapped, by_key, by_id)
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
        change = _CHANGES.c
        ordered = sorted(candidates)
        for chunk in chunked(ordered):
            rows = await session.execute(
                select(change.contact_id, change.field, func.max(change.changed_at))
                .where(
                    change.contact_id.in_(id_set(session, chunk)),
                    change.source != self._integration,
                )
                .group_by(change.contact_id, change.field)
            )
            created: dict[int, datetime] = {}
            for contact_id, name, at in rows.all():
                if name == CONTACT_CREATED:
                    created[contact_id] = at
                else:
                    times.setdefault(contact_id, {})[name] = at
            # A creation (logged without a snapshot) set the fields the contact holds a value
            # in; a later change of a field has its own, later row.
            for contact_id, at in created.items():
                per = times.setdefault(contact_id, {})
                for name, value in by_id[contact_id].values.items():
                    if value is not None and (name not in per or per[name] < at):
                        per[name] = at
        return times

    def _judge_item(
        self,
        item: PulledItem,
        contact: PulledContact,
        mapping: StoredMapping | None,
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
                and email_key(was) == email_key(value)
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
                direction=SyncDirection.PULL,
                object=self._object,
                message=message,
                integration_id=integration_id,
                contact_id=contact_id if contact_id is not None and contact_id > 0 else None,
                field=field_name,
                run_id=self._run_id,
                skipped=skipped,
            )
        )
