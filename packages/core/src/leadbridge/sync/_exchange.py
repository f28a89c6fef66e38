"""The data exchange contract: what an integration implements so the engine can sync it.

An integration's exchange answers two questions:

* **report** (pull, required): "which objects changed since this cursor?" — an async iterator
  of :class:`ReportPage`, each carrying the cursor to store once that page is applied;
* **execute** (push, optional): "apply this :class:`Order` of creates, updates and deletes"
  — returns an :class:`OrderResult` with one :class:`ObjectResult` per object;
* **audiences** / **add_to_audience** (push, optional): "these members of a segment are not
  in your list yet: add them" — Livestorm registers a segment on a session this way.

Values travel in LeadBridge's stored forms on the way out (push: ISO dates, UTC date-times
``YYYY-MM-DDTHH:MM:SSZ``, lists for multiselects) and in the source's own forms on the way in
(pull): the engine's :class:`~leadbridge.sync.ValueNormalizer` turns them into stored forms.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, ClassVar

from ._errors import SyncObjectError

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class ReportObject:
    """One changed object of the integration, as its source has it.

    ``fields`` maps integration field names to raw values (a field absent from the mapping is
    left alone; a present ``None`` or empty value clears it). ``field_modified_at`` gives a
    per-field change time where the source has one; other fields changed at ``modified_at``.
    ``deleted`` marks an object deleted in the integration. ``extra`` is the plugin's own
    data, handed back untouched in :class:`BatchSynced`.
    """

    integration_id: str
    modified_at: datetime
    fields: Mapping[str, Any]
    field_modified_at: Mapping[str, datetime] = field(default_factory=lambda: _EMPTY)
    deleted: bool = False
    extra: Any = None


@dataclass(frozen=True, slots=True)
class ReportPage:
    """A page of the report.

    ``cursor`` is stored, in the page's transaction, once every object of the page is
    applied; the next run (or a rerun after a crash) starts from it. ``errors`` lists objects
    the exchange could not read at all (recorded per object, the rest of the page syncs).
    ``api_calls`` is what the page cost; ``total`` (optional) the number of objects the whole
    report expects, for progress bars.
    """

    objects: Sequence[ReportObject]
    cursor: str | None
    api_calls: int = 0
    total: int | None = None
    errors: Sequence[SyncObjectError] = ()


@dataclass(frozen=True, slots=True)
class ReportRequest:
    """What the engine asks for: ``object``'s changes since ``cursor``.

    ``cursor`` is ``None`` on a first or full sync; ``since`` then bounds how far back to go
    (``None``: everything). ``fields`` names the integration fields the mapping reads;
    ``ids`` (when set) limits the report to these integration ids.
    """

    object: str
    cursor: str | None
    since: datetime | None = None
    fields: tuple[str, ...] = ()
    ids: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class OrderItem:
    """One object to create (``integration_id`` is ``None``), update or delete.

    ``fields`` maps integration field names to LeadBridge's stored values.
    """

    contact_id: int
    fields: Mapping[str, Any]
    integration_id: str | None = None


@dataclass(frozen=True, slots=True)
class Order:
    """What push asks the integration to do for ``object``."""

    object: str
    creates: Sequence[OrderItem] = ()
    updates: Sequence[OrderItem] = ()
    deletes: Sequence[OrderItem] = ()

    def __len__(self) -> int:
        return len(self.creates) + len(self.updates) + len(self.deletes)


@dataclass(frozen=True, slots=True)
class Audience:
    """A segment whose members push adds to a list the integration keeps.

    Livestorm registers each member of ``segment`` (an alias) on session ``target``; a mailing
    tool would add them to a list. ``object`` is what the engine records a member under: a
    success stores the mapping ``(integration, object, integration_id) → contact`` and the
    contact is not sent again; a failure is recorded per contact and retried on the next run.
    ``fields_from`` names the mapped object (``people``) whose push fields and unique
    identifiers translate a contact's values into each :class:`OrderItem`'s ``fields``.
    Members are the segment's members as of its last build.
    """

    object: str
    segment: str
    target: str
    fields_from: str


@dataclass(frozen=True, slots=True)
class ObjectResult:
    """The outcome for one :class:`OrderItem`.

    A success gives the ``integration_id`` (required for creates: it becomes the object
    mapping) and optionally the object's new ``modified_at``; a failure gives the ``error``
    reason, recorded per object and retried on the next run.
    """

    contact_id: int
    integration_id: str | None = None
    error: str | None = None
    modified_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @classmethod
    def failed(
        cls, contact_id: int, reason: str, integration_id: str | None = None
    ) -> ObjectResult:
        return cls(contact_id=contact_id, integration_id=integration_id, error=reason)


@dataclass(frozen=True, slots=True)
class OrderResult:
    """Per-object results of an order; an item without a result counts as failed."""

    results: Sequence[ObjectResult] = field(default_factory=tuple)
    api_calls: int = 0


class BaseDataExchange(abc.ABC):
    """Moves objects between an integration and LeadBridge. Subclass it in your plugin.

    Implement :meth:`report` (pull). Override :meth:`execute` to support push; set
    ``supports_create = False`` when push must only update objects the integration already
    has, ``supports_delete = True`` when it may delete objects whose contact was deleted.
    ``null_values`` lists raw values your source uses for "no value" (say ``"0"`` or
    ``"N/A"``); empty strings and ``None`` always mean no value.

    Around-hooks are async generators wrapping a phase (``yield`` runs it): open a client
    before a report, flush a bulk job after an order. An exception in the phase is thrown in
    at the ``yield``.

    Raise :class:`~leadbridge.sync.SyncRunError` (or let any other exception out) when the run
    cannot go on — bad credentials, the service is down: the run ends ``failed`` and the page
    being read is not applied. Report objects you cannot read in ``ReportPage.errors`` and
    refused pushes as failed :class:`ObjectResult` — those are skipped, recorded and the rest
    syncs.

    Exchanges should make creates idempotent (match by email on their side): a crash after
    the integration applied an order but before LeadBridge committed its results replays the
    order on the next run.
    """

    supports_create: ClassVar[bool] = True
    supports_delete: ClassVar[bool] = False
    null_values: ClassVar[frozenset[Any]] = frozenset()

    @abc.abstractmethod
    def report(self, request: ReportRequest) -> AsyncIterator[ReportPage]:
        """Pages of ``request.object``'s objects changed since ``request.cursor``, oldest first.

        Typically an ``async def`` with ``yield``. Each page's ``cursor`` must let a later call
        resume right after that page; replaying a page must be harmless (the engine's writes
        are idempotent). Yield nothing when nothing changed.
        """

    async def execute(self, order: Order) -> OrderResult:
        """Apply ``order`` in the integration; return one result per item (push)."""
        raise NotImplementedError(f"{type(self).__name__} does not support push")

    @property
    def supports_push(self) -> bool:
        return type(self).execute is not BaseDataExchange.execute

    async def audiences(self) -> Sequence[Audience]:
        """The audiences push fills on each run, from the integration's settings (none)."""
        return ()

    async def add_to_audience(self, audience: Audience, items: Sequence[OrderItem]) -> OrderResult:
        """Add ``items`` — members of ``audience.segment`` not in it yet — to the audience.

        Return one result per item. A success's ``integration_id`` names the membership in
        the integration (it becomes the mapping under ``audience.object``); a member the
        integration already had is a success too. Refusals are failed results, retried on
        the next run; raise :class:`~leadbridge.sync.SyncRunError` when nothing can go on.
        """
        raise NotImplementedError(f"{type(self).__name__} does not support audiences")

    async def around_pull(self, request: ReportRequest) -> AsyncIterator[None]:
        """Wraps reading one object's report (``yield`` reads it)."""
        yield

    async def around_push(self, order: Order) -> AsyncIterator[None]:
        """Wraps executing one order (``yield`` executes it)."""
        yield
