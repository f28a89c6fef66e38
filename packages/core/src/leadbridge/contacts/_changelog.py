"""The contact change log: written with every change, read by push sync, pruned by cursor."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..db import utcnow
from ._models import ChangeLogCursorRow, ContactChangeRow

_CHANGES = cast(Table, ContactChangeRow.__table__)

#: ``field`` of the row written when a contact is created (``value`` is null: a consumer reads
#: the contact itself, which is cheaper to log than a snapshot of every field).
CONTACT_CREATED = "@created"
#: ``field`` of the row written when a contact is deleted; ``value`` holds its email.
CONTACT_DELETED = "@deleted"


@dataclass(frozen=True)
class ContactChange:
    id: int
    contact_id: int
    field: str
    value: Any
    changed_at: datetime
    source: str


async def record_changes(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Write change rows ``{contact_id, field, value, source[, changed_at]}`` in ``session``."""
    if not rows:
        return
    now = utcnow()
    # Core insert (not the ORM's bulk path): one executemany, no per-row ORM bookkeeping.
    await session.execute(insert(_CHANGES), [{"changed_at": now, **row} for row in rows])


class ChangeLogService:
    """Reads the change log by cursor and prunes what every consumer has read."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    async def read(
        self, after: int, *, limit: int = 1000, exclude_source: str | None = None
    ) -> list[ContactChange]:
        stmt = select(ContactChangeRow).where(ContactChangeRow.id > after)
        if exclude_source is not None:
            stmt = stmt.where(ContactChangeRow.source != exclude_source)
        stmt = stmt.order_by(ContactChangeRow.id).limit(limit)
        async with self._session_factory() as session:
            rows = (await session.scalars(stmt)).all()
        return [
            ContactChange(r.id, r.contact_id, r.field, r.value, r.changed_at, r.source)
            for r in rows
        ]

    async def last_id(self) -> int:
        async with self._session_factory() as session:
            value = await session.scalar(select(func.max(ContactChangeRow.id)))
        return int(value or 0)

    async def position(self, consumer: str) -> int:
        async with self._session_factory() as session:
            value = await session.scalar(
                select(ChangeLogCursorRow.position).where(ChangeLogCursorRow.consumer == consumer)
            )
        return int(value or 0)

    async def advance(
        self, consumer: str, position: int, session: AsyncSession | None = None
    ) -> None:
        """Record that ``consumer`` has read up to ``position`` (inclusive)."""
        if session is None:
            async with self._session_factory.begin() as own:
                await self._advance(own, consumer, position)
        else:
            await self._advance(session, consumer, position)

    @staticmethod
    async def _advance(session: AsyncSession, consumer: str, position: int) -> None:
        row = await session.get(ChangeLogCursorRow, consumer)
        if row is None:
            session.add(ChangeLogCursorRow(consumer=consumer, position=position))
        else:
            row.position = position
        await session.flush()

    async def prune(self) -> int:
        """Delete rows that every registered consumer has read; returns how many went."""
        async with self._session_factory.begin() as session:
            floor = await session.scalar(select(func.min(ChangeLogCursorRow.position)))
            if floor is None:
                return 0  # nobody reads the log yet; keep it for the first consumer
            result = await session.execute(
                delete(ContactChangeRow).where(ContactChangeRow.id <= floor)
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]
