from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest_asyncio
from sqlalchemy import delete, update

from leadbridge import CoreContainer
from leadbridge.contacts import (
    ContactChangeRow,
    ContactRow,
    ContactTagRow,
    TagRow,
)
from leadbridge.segments import SegmentMemberRow, SegmentRow, SegmentService

from .oracle import Person

#: A Friday, mid-morning UTC.
NOW = datetime(2024, 3, 15, 10, 30, tzinfo=UTC)

SELECT_OPTIONS = ["Alpha", "beta", "Gamma"]
MULTI_OPTIONS = ["red", "Green", "blue"]

CUSTOM_FIELDS: dict[str, tuple[str, list[str] | None]] = {
    "t_text": ("text", None),
    "t_num": ("number", None),
    "t_bool": ("boolean", None),
    "t_date": ("date", None),
    "t_dt": ("datetime", None),
    "t_sel": ("select", SELECT_OPTIONS),
    "t_multi": ("multiselect", MULTI_OPTIONS),
}

#: field key → oracle type
TYPES: dict[str, str] = {
    "email": "text",
    "first_name": "text",
    "last_name": "text",
    "company": "text",
    "phone": "text",
    "city": "text",
    "country": "text",
    "points": "number",
    "created_at": "datetime",
    "updated_at": "datetime",
    "last_active_at": "datetime",
    "tags": "tags",
    "segment": "segment",
    **{alias: kind for alias, (kind, _opts) in CUSTOM_FIELDS.items()},
}

_CORE = ("email", "first_name", "last_name", "company", "phone", "city", "country")
#: columns a test sets directly (no service writes them)
_DIRECT = ("points", "created_at", "last_active_at")


def make_service(container: CoreContainer, now: datetime = NOW, tz: str = "UTC") -> SegmentService:
    return SegmentService(container.session_factory(), container.event_bus(), lambda: now, tz)


@pytest_asyncio.fixture
async def fields(container: CoreContainer) -> None:
    service = container.custom_field_service()
    for alias, (kind, options) in CUSTOM_FIELDS.items():
        await service.define(alias, kind, options=options)


@pytest_asyncio.fixture
async def segments(container: CoreContainer, fields: None) -> SegmentService:
    return make_service(container)


async def seed(container: CoreContainer, people: Sequence[Mapping[str, Any]]) -> list[Person]:
    """Create contacts (core fields, custom fields, tags, points, dates) and return what is
    stored, as the oracle sees it."""
    contacts = container.contact_service()
    ids: list[int] = []
    for spec in people:
        core = {k: spec[k] for k in _CORE if k in spec and k != "email"}
        created = await contacts.create(
            spec["email"], fields=spec.get("fields") or {}, tags=spec.get("tags") or (), **core
        )
        ids.append(created.id)
    async with container.session_factory().begin() as session:
        for cid, spec in zip(ids, people, strict=True):
            direct = {k: spec[k] for k in _DIRECT if k in spec}
            if direct:
                await session.execute(
                    update(ContactRow).where(ContactRow.id == cid).values(**direct)
                )
    out = []
    for cid in ids:
        c = await contacts.get(cid)
        values: dict[str, Any] = {k: c.get(k) for k in (*_CORE, *_DIRECT, "updated_at")}
        values.update(c.fields)
        out.append(Person(cid, values, set(c.tags)))
    return out


async def reset(container: CoreContainer) -> None:
    """Empty what a property-test example writes (custom field definitions stay)."""
    async with container.session_factory().begin() as session:
        for model in (SegmentMemberRow, SegmentRow, ContactTagRow, TagRow, ContactChangeRow):
            await session.execute(delete(model))
        await session.execute(delete(ContactRow))


async def member_ids(service: SegmentService, alias: str, limit: int = 100) -> set[int]:
    out: set[int] = set()
    after = None
    while True:
        page = await service.members(alias, limit=limit, after=after)
        out.update(c.id for c in page.items)
        if page.next_after is None:
            return out
        after = page.next_after
