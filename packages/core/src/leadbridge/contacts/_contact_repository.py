"""Set-based contact reads: keyset pages with filters and order, counts, batches by id or email."""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db import id_set, key_set
from ._contact import Contact
from ._fields import email_key
from ._models import ContactRow, ContactTagRow, TagRow

#: The columns a contact is read with (``email_key`` is an internal matching key).
_COLUMNS = (
    ContactRow.id,
    ContactRow.email,
    ContactRow.first_name,
    ContactRow.last_name,
    ContactRow.company,
    ContactRow.phone,
    ContactRow.city,
    ContactRow.country,
    ContactRow.points,
    ContactRow.fields,
    ContactRow.created_at,
    ContactRow.updated_at,
    ContactRow.last_active_at,
)


class ContactSort(enum.Enum):
    """What contacts are ordered by; ties are broken by id, so the order is total."""

    ID = "id"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    POINTS = "points"
    #: by email ignoring case (the order of the unique email key)
    EMAIL = "email"

    def keyset(self, contact: Contact) -> ContactKeyset:
        """Where a page continuing after ``contact`` starts, in this order."""
        if self is ContactSort.EMAIL:
            return ContactKeyset(email_key(contact.email), contact.id)
        return ContactKeyset(getattr(contact, self.value), contact.id)


_SORT_COLUMNS: dict[ContactSort, Any] = {
    ContactSort.ID: ContactRow.id,
    ContactSort.CREATED_AT: ContactRow.created_at,
    ContactSort.UPDATED_AT: ContactRow.updated_at,
    ContactSort.POINTS: ContactRow.points,
    ContactSort.EMAIL: ContactRow.email_key,
}


@dataclass(frozen=True)
class ContactKeyset:
    """A page starts after the contact with this sort value and id (``ContactSort.keyset``).

    With ``ContactSort.ID`` only ``id`` counts.
    """

    value: Any
    id: int


@dataclass(frozen=True)
class ContactQuery:
    """Contacts matching every condition given (``None``: no condition)."""

    #: the email, ignoring case
    email: str | None = None
    #: text contained in the email, first or last name or company, ignoring case
    search: str | None = None
    #: contacts with this tag
    tag: str | None = None
    #: stored members of the segment with this alias (not manually removed)
    segment: str | None = None
    points_min: int | None = None
    points_max: int | None = None
    #: changed at or after this time
    updated_since: datetime | None = None

    def where(self) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = []
        if self.email is not None:
            clauses.append(ContactRow.email_key == email_key(self.email))
        if self.search is not None and self.search.strip():
            pattern = "%" + _escape_like(self.search.strip().lower()) + "%"
            clauses.append(
                or_(
                    ContactRow.email_key.like(pattern, escape="\\"),
                    func.lower(ContactRow.first_name).like(pattern, escape="\\"),
                    func.lower(ContactRow.last_name).like(pattern, escape="\\"),
                    func.lower(ContactRow.company).like(pattern, escape="\\"),
                )
            )
        if self.tag is not None:
            clauses.append(
                ContactRow.id.in_(
                    select(ContactTagRow.contact_id)
                    .join(TagRow, TagRow.id == ContactTagRow.tag_id)
                    .where(TagRow.name == self.tag.strip().lower())
                )
            )
        if self.segment is not None:
            clauses.append(_segment_members(self.segment.strip()))
        if self.points_min is not None:
            clauses.append(ContactRow.points >= self.points_min)
        if self.points_max is not None:
            clauses.append(ContactRow.points <= self.points_max)
        if self.updated_since is not None:
            clauses.append(ContactRow.updated_at >= self.updated_since)
        return clauses


def _segment_members(alias: str) -> ColumnElement[bool]:
    # Imported here: segments builds on contacts (its filters read contacts' tables).
    from ..segments._models import SegmentMemberRow, SegmentRow

    return ContactRow.id.in_(
        select(SegmentMemberRow.contact_id)
        .join(SegmentRow, SegmentRow.id == SegmentMemberRow.segment_id)
        .where(SegmentRow.alias == alias, SegmentMemberRow.manually_removed == false())
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class ContactRepository:
    """Reads contacts in sets, one statement per call, through the session it is given.

    The gateway reads a whole request through one read-only session and
    :meth:`ContactService.list` reads through these too: one read path for contacts. Contacts
    come without their tags (``tags == ()``) unless ``with_tags=True`` (one more statement),
    so that a caller who does not show tags does not pay for them.
    """

    async def page(
        self,
        session: AsyncSession,
        query: ContactQuery = ContactQuery(),
        *,
        sort: ContactSort = ContactSort.ID,
        descending: bool = False,
        limit: int = 50,
        after: ContactKeyset | None = None,
        with_tags: bool = False,
    ) -> tuple[list[Contact], bool]:
        """Up to ``limit`` contacts after ``after`` in the given order, and whether more follow.

        Continue with ``after=sort.keyset(contacts[-1])``.
        """
        column = _SORT_COLUMNS[sort]
        clauses = query.where()
        if after is not None:
            if sort is ContactSort.ID:
                clauses.append(ContactRow.id < after.id if descending else ContactRow.id > after.id)
            elif descending:
                clauses.append(
                    or_(column < after.value, and_(column == after.value, ContactRow.id < after.id))
                )
            else:
                clauses.append(
                    or_(column > after.value, and_(column == after.value, ContactRow.id > after.id))
                )
        if sort is ContactSort.ID:
            order = [ContactRow.id.desc() if descending else ContactRow.id.asc()]
        elif descending:
            order = [column.desc(), ContactRow.id.desc()]
        else:
            order = [column.asc(), ContactRow.id.asc()]
        stmt = select(*_COLUMNS).where(*clauses).order_by(*order).limit(limit + 1)
        rows = (await session.execute(stmt)).all()
        contacts = await contacts_from_rows(session, rows[:limit], with_tags=with_tags)
        return contacts, len(rows) > limit

    async def count(self, session: AsyncSession, query: ContactQuery = ContactQuery()) -> int:
        """How many contacts match ``query``."""
        stmt = select(func.count()).select_from(ContactRow).where(*query.where())
        return int(await session.scalar(stmt) or 0)

    async def by_ids(
        self, session: AsyncSession, ids: Sequence[int], *, with_tags: bool = False
    ) -> dict[int, Contact]:
        """The contacts with these ids, by id (unknown ids are left out)."""
        if not ids:
            return {}
        stmt = select(*_COLUMNS).where(ContactRow.id.in_(id_set(session, sorted(set(ids)))))
        rows = (await session.execute(stmt)).all()
        contacts = await contacts_from_rows(session, rows, with_tags=with_tags)
        return {c.id: c for c in contacts}

    async def by_emails(
        self, session: AsyncSession, emails: Sequence[str], *, with_tags: bool = False
    ) -> dict[str, Contact]:
        """The contacts with these emails, by :func:`email_key` (unknown emails are left out)."""
        keys = sorted({email_key(e) for e in emails})
        if not keys:
            return {}
        stmt = select(*_COLUMNS).where(ContactRow.email_key.in_(key_set(session, keys)))
        rows = (await session.execute(stmt)).all()
        contacts = await contacts_from_rows(session, rows, with_tags=with_tags)
        return {email_key(c.email): c for c in contacts}

    async def tags_by_contact(
        self, session: AsyncSession, ids: Sequence[int]
    ) -> dict[int, list[str]]:
        """Each contact's tag names, sorted (contacts without tags are left out)."""
        return await _tags_by_contact(session, ids)


async def contacts_from_rows(
    session: AsyncSession, rows: Sequence[Any], *, with_tags: bool
) -> list[Contact]:
    """Contacts from rows carrying the contact columns (``ContactRow`` objects or result rows)."""
    tags = await _tags_by_contact(session, [r.id for r in rows]) if with_tags else {}
    return [
        Contact(
            id=r.id,
            email=r.email,
            first_name=r.first_name,
            last_name=r.last_name,
            company=r.company,
            phone=r.phone,
            city=r.city,
            country=r.country,
            points=r.points,
            fields=dict(r.fields or {}),
            tags=tuple(tags.get(r.id, ())),
            created_at=r.created_at,
            updated_at=r.updated_at,
            last_active_at=r.last_active_at,
        )
        for r in rows
    ]


async def _tags_by_contact(session: AsyncSession, ids: Sequence[int]) -> dict[int, list[str]]:
    if not ids:
        return {}
    stmt = (
        select(ContactTagRow.contact_id, TagRow.name)
        .join(TagRow, TagRow.id == ContactTagRow.tag_id)
        .where(ContactTagRow.contact_id.in_(id_set(session, sorted(set(ids)))))
        .order_by(ContactTagRow.contact_id, TagRow.name)
    )
    out: dict[int, list[str]] = defaultdict(list)
    for contact_id, name in (await session.execute(stmt)).all():
        out[contact_id].append(name)
    return dict(out)
