"""An in-memory reference integration: a tiny remote system and its data exchange.

It is what a real integration looks like to the sync engine, with every knob a test needs:

* bidirectional, every field type (text, email, url, phone, number, boolean, date,
  datetime, select, multiselect), remote field names that differ from LeadBridge's;
* per-field change times (``per_field_times=True``) or only an object-level modified time;
* values stored raw, so a test can plant bad objects (``add({"emailAddress": "nope"})``);
* injectable failures: a fatal error after page *k* (``fail_after_pages``), bad credentials
  (``bad_credentials``), objects the exchange cannot read (``unreadable``) or leaves out on
  purpose (``skipped``, reported as :class:`~leadbridge.sync.SyncObjectSkipped`), pushes refused
  per email (``reject_push``), a slow page (``page_delay``) to kill a run mid-way;
* ``synthetic(n, make)``: *n* objects computed on demand (nothing stored) for benchmarks.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from typing_extensions import override

from ..contacts import CustomFieldService
from ..db import utcnow
from ..sync import (
    BIDIRECTIONAL,
    BaseDataExchange,
    MappingManual,
    ObjectResult,
    Order,
    OrderResult,
    ReportObject,
    ReportPage,
    ReportRequest,
    SyncObjectError,
    SyncObjectSkipped,
    SyncRunError,
)

#: Remote field name → (LeadBridge field, type). Custom fields are created by
#: :func:`define_memory_fields`.
MEMORY_FIELDS: dict[str, tuple[str, str]] = {
    "emailAddress": ("email", "email"),
    "firstName": ("first_name", "text"),
    "lastName": ("last_name", "text"),
    "companyName": ("company", "text"),
    "phoneNumber": ("phone", "phone"),
    "city": ("city", "text"),
    "country": ("country", "text"),
    "website": ("website", "url"),
    "score": ("score", "number"),
    "vip": ("vip", "boolean"),
    "birthday": ("birthday", "date"),
    "lastSeen": ("last_seen", "datetime"),
    "plan": ("plan", "select"),
    "interests": ("interests", "multiselect"),
}
MEMORY_OPTIONS: dict[str, list[str]] = {
    "plan": ["free", "pro", "enterprise"],
    "interests": ["webinars", "ebooks", "events"],
}
MEMORY_OBJECT = "people"


async def define_memory_fields(fields: CustomFieldService) -> None:
    """Define the custom fields the memory integration maps (skips those that exist)."""
    have = await fields.all_fields()
    for internal, kind in MEMORY_FIELDS.values():
        if internal not in have:
            await fields.define(internal, kind, options=MEMORY_OPTIONS.get(internal))


@dataclass(slots=True)
class MemoryRecord:
    id: str
    fields: dict[str, Any]
    modified_at: datetime
    field_modified_at: dict[str, datetime] = field(default_factory=dict)
    deleted: bool = False
    seq: int = 0


class MemoryIntegration:
    """The remote system. ``exchange()`` gives the :class:`BaseDataExchange` the engine uses."""

    def __init__(
        self,
        name: str = "memory",
        *,
        page_size: int = 100,
        per_field_times: bool = True,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.name = name
        self.page_size = page_size
        self.per_field_times = per_field_times
        self.clock = clock
        #: records by id, in change order (a change moves a record to the end)
        self.records: dict[str, MemoryRecord] = {}
        #: raise ``fail_with()`` instead of serving page k+1 of a report
        self.fail_after_pages: int | None = None
        self.fail_with: Callable[[], BaseException] = lambda: SyncRunError(
            "injected failure: the remote service went away"
        )
        #: every call fails as a 401 would
        self.bad_credentials = False
        #: seconds to wait before serving each page
        self.page_delay = 0.0
        #: ids the report cannot read (reported as per-object errors)
        self.unreadable: set[str] = set()
        #: ids the report leaves out on purpose (reported as skipped, not failed)
        self.skipped: set[str] = set()
        #: lowercase email → reason: pushes of these contacts are refused
        self.reject_push: dict[str, str] = {}
        self.api_calls = 0
        self.pages_served = 0
        self.orders: list[Order] = []
        self._seq = 0
        self._next_id = 0
        self._base: tuple[int, Callable[[int], dict[str, Any]], datetime] | None = None

    @classmethod
    def synthetic(
        cls,
        n: int,
        make: Callable[[int], dict[str, Any]],
        *,
        modified_at: datetime | None = None,
        **kwargs: Any,
    ) -> MemoryIntegration:
        """*n* records ``p0 … p{n-1}`` whose fields ``make(i)`` computes when read."""
        integration = cls(**kwargs)
        integration._base = (n, make, modified_at or datetime(2024, 1, 1, tzinfo=UTC))
        integration._seq = n
        integration._next_id = n
        return integration

    # -- the remote data -------------------------------------------------------------------

    def add(
        self,
        fields: Mapping[str, Any],
        *,
        id: str | None = None,
        at: datetime | None = None,
    ) -> str:
        """Store a record as given (raw values, nothing checked); returns its id."""
        if id is None:
            id = f"p{self._next_id}"
            self._next_id += 1
        at = at or self.clock()
        self._seq += 1
        record = MemoryRecord(
            id,
            dict(fields),
            at,
            dict.fromkeys(fields, at) if self.per_field_times else {},
            seq=self._seq,
        )
        self.records.pop(id, None)
        self.records[id] = record
        return id

    def update(
        self,
        id: str,
        fields: Mapping[str, Any],
        *,
        at: datetime | None = None,
        field_at: Mapping[str, datetime] | None = None,
    ) -> None:
        """Change some fields of a record (``field_at`` gives their own change times)."""
        record = self._materialize(id)
        at = at or self.clock()
        record.fields.update(fields)
        if self.per_field_times:
            for name in fields:
                record.field_modified_at[name] = (field_at or {}).get(name, at)
        record.modified_at = max([at, *(field_at or {}).values()])
        self._touch(record)

    def delete(self, id: str, *, at: datetime | None = None) -> None:
        record = self._materialize(id)
        record.deleted = True
        record.modified_at = at or self.clock()
        self._touch(record)

    def get(self, id: str) -> dict[str, Any]:
        return dict(self._materialize(id).fields)

    def find(self, email: str) -> str | None:
        key = email.strip().lower()
        for record in self._all():
            value = record.fields.get("emailAddress")
            if isinstance(value, str) and value.strip().lower() == key and not record.deleted:
                return record.id
        return None

    def __len__(self) -> int:
        extra = sum(1 for r in self.records if not self._in_base(r))
        return (self._base[0] if self._base else 0) + extra

    def _in_base(self, id: str) -> bool:
        if self._base is None or not id.startswith("p") or not id[1:].isdigit():
            return False
        return int(id[1:]) < self._base[0]

    def _base_record(self, i: int) -> MemoryRecord:
        assert self._base is not None
        _n, make, at = self._base
        return MemoryRecord(f"p{i}", make(i), at, {}, seq=i + 1)

    def _materialize(self, id: str) -> MemoryRecord:
        record = self.records.get(id)
        if record is None and self._in_base(id):
            record = self._base_record(int(id[1:]))
            self.records[id] = record
        if record is None:
            raise KeyError(f"no record {id!r} in the memory integration")
        return record

    def _touch(self, record: MemoryRecord) -> None:
        self._seq += 1
        record.seq = self._seq
        self.records.pop(record.id, None)
        self.records[record.id] = record

    def _all(self) -> Iterator[MemoryRecord]:
        yield from self._since(0)

    def _since(self, seq: int) -> Iterator[MemoryRecord]:
        """Records changed after ``seq``, in change order."""
        if self._base is not None:
            n = self._base[0]
            for i in range(seq, n):
                if f"p{i}" not in self.records:
                    yield self._base_record(i)
        for record in list(self.records.values()):
            if record.seq > seq:
                yield record

    # -- the exchange ----------------------------------------------------------------------

    def exchange(self) -> MemoryExchange:
        return MemoryExchange(self)

    def manual(
        self,
        *,
        directions: Mapping[str, str] | None = None,
        default: str = BIDIRECTIONAL,
        only: tuple[str, ...] | None = None,
        conflict_winner: str = "internal",
        first_sync_from: datetime | None = None,
    ) -> MappingManual:
        """The mapping: every field (or ``only`` these internal fields), each ``default``
        direction unless ``directions`` (by internal field) says otherwise."""
        wanted = [
            (internal, remote, (directions or {}).get(internal, default))
            for remote, (internal, _kind) in MEMORY_FIELDS.items()
            if only is None or internal in only or internal == "email"
        ]
        return MappingManual.build(
            self.name,
            {MEMORY_OBJECT: wanted},
            conflict_winner=conflict_winner,
            first_sync_from=first_sync_from,
        )


class MemoryExchange(BaseDataExchange):
    """The data exchange of :class:`MemoryIntegration` (the reference implementation)."""

    supports_create = True
    supports_delete = True
    null_values = frozenset({"N/A"})

    def __init__(self, integration: MemoryIntegration) -> None:
        self.integration = integration

    def _call(self) -> None:
        remote = self.integration
        remote.api_calls += 1
        if remote.bad_credentials:
            raise SyncRunError(f"{remote.name}: 401 Unauthorized (check the API key)")

    @override
    async def report(self, request: ReportRequest) -> AsyncIterator[ReportPage]:
        remote = self.integration
        if request.object != MEMORY_OBJECT:
            raise SyncRunError(f"{remote.name} has no object {request.object!r}")
        try:
            after = int(request.cursor) if request.cursor else 0
        except ValueError as exc:
            raise SyncRunError(f"{remote.name}: bad cursor {request.cursor!r}") from exc
        size = remote.page_size
        objects: list[ReportObject] = []
        errors: list[SyncObjectError] = []
        last = after
        served = 0
        for record in remote._since(after):
            last = record.seq
            if request.ids is not None and record.id not in request.ids:
                continue
            if request.since is not None and record.modified_at < request.since:
                continue
            if record.id in remote.unreadable:
                errors.append(SyncObjectError("unreadable record", integration_id=record.id))
            elif record.id in remote.skipped:
                reason = "left out: an internal test account"
                errors.append(SyncObjectSkipped(reason, integration_id=record.id))
            else:
                objects.append(
                    ReportObject(
                        record.id,
                        record.modified_at,
                        record.fields,
                        record.field_modified_at,
                        record.deleted,
                    )
                )
            if len(objects) + len(errors) >= size:
                yield await self._page(objects, errors, last, served)
                served += 1
                objects, errors = [], []
        if objects or errors or served == 0:
            # Even an empty report asked the remote once: an empty page says so.
            yield await self._page(objects, errors, last, served)

    async def _page(
        self,
        objects: list[ReportObject],
        errors: list[SyncObjectError],
        last: int,
        served: int,
    ) -> ReportPage:
        remote = self.integration
        if remote.fail_after_pages is not None and served >= remote.fail_after_pages:
            raise remote.fail_with()
        self._call()
        if remote.page_delay:
            await asyncio.sleep(remote.page_delay)
        remote.pages_served += 1
        return ReportPage(objects, str(last), api_calls=1, total=len(remote), errors=errors)

    @override
    async def execute(self, order: Order) -> OrderResult:
        self._call()
        remote = self.integration
        remote.orders.append(order)
        results: list[ObjectResult] = []
        now = remote.clock()
        for item in order.creates:
            email = str(item.fields.get("emailAddress") or "")
            reason = remote.reject_push.get(email.lower())
            if reason:
                results.append(ObjectResult.failed(item.contact_id, reason))
                continue
            # Idempotent by email: a replayed create finds the object it made before.
            found = remote.find(email) if email else None
            if found is not None:
                remote.update(found, item.fields, at=now)
            else:
                found = remote.add(item.fields, at=now)
            results.append(
                ObjectResult(item.contact_id, found, modified_at=remote.records[found].modified_at)
            )
        for item in order.updates:
            iid = item.integration_id
            assert iid is not None
            if iid not in remote.records and not remote._in_base(iid):
                results.append(ObjectResult.failed(item.contact_id, "no such object", iid))
                continue
            if remote.reject_push:
                email = item.fields.get("emailAddress", remote.get(iid).get("emailAddress"))
                reason = remote.reject_push.get(str(email or "").lower())
                if reason:
                    results.append(ObjectResult.failed(item.contact_id, reason, iid))
                    continue
            remote.update(iid, item.fields, at=now)
            results.append(ObjectResult(item.contact_id, iid, modified_at=now))
        for item in order.deletes:
            assert item.integration_id is not None
            if item.integration_id in remote.records or remote._in_base(item.integration_id):
                remote.delete(item.integration_id, at=now)
            results.append(ObjectResult(item.contact_id, item.integration_id))
        return OrderResult(results, api_calls=1)
