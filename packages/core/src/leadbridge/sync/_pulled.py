"""What the puller makes of a page, handed to the pull store: contacts, mappings, objects."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..contacts import ContactUpdate
from ._exchange import ReportObject
from ._outcome import PageOutcome


class ItemOutcome(enum.Enum):
    """What a pulled object did to its contact (each counts in the counter of its name)."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(slots=True)
class PulledContact:
    """A contact as the page sees it: stored values, then the page's changes on top."""

    id: int
    key: str
    values: dict[str, Any]
    fields: dict[str, Any]
    old: dict[str, Any] = field(default_factory=dict)
    new: bool = False
    failed: bool = False


@dataclass(slots=True)
class StoredMapping:
    """An object mapping as stored (``id`` is ``None`` for one a dry run only remembers)."""

    id: int | None
    contact_id: int
    last_synced_at: datetime | None
    integration_modified_at: datetime | None
    deleted_at: datetime | None


@dataclass(slots=True)
class PulledItem:
    """One object of the page, its values converted, and the contact it resolved to."""

    obj: ReportObject
    values: dict[str, Any]
    email: str | None
    key: str | None
    modified_at: datetime
    contact: PulledContact | None = None
    outcome: ItemOutcome = ItemOutcome.UNCHANGED
    kept_internal: bool = False


@dataclass
class PulledPage:
    """A page resolved against the contacts: what to create, update and map."""

    outcome: PageOutcome
    #: new contacts (temporary negative ids until written)
    creates: list[PulledContact]
    updates: list[ContactUpdate]
    #: objects resolved to a contact, to map
    matched: list[PulledItem]
    #: objects the integration deleted
    deleted: list[ReportObject]
    #: the stored mappings of the page's objects, by integration id
    mapped: dict[str, StoredMapping]
