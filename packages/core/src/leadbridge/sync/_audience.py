"""Audience push: the members of a segment that are not in the integration's list yet."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import exists, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .._errors import ConfigurationError
from ..contacts import CORE_FIELDS, ContactRow
from ..segments import SegmentMemberRow, SegmentRow
from ._exchange import Audience, OrderItem
from ._manual import MappingManual, ObjectManual
from ._models import ERRORS, SyncObjectMappingRow
from ._options import SyncDirection
from ._results import SyncFailure

#: Members handed to ``add_to_audience`` at a time.
AUDIENCE_BATCH = 500


def fields_object(manual: MappingManual, audience: Audience) -> ObjectManual:
    for obj in manual.objects:
        if obj.object == audience.fields_from:
            return obj
    raise ConfigurationError(
        f"audience {audience.object!r} of {manual.integration} takes its fields from object "
        f"{audience.fields_from!r}, which the mapping does not have"
    )


def item_fields(obj: ObjectManual, values: dict[str, Any]) -> dict[str, Any]:
    """A contact's values as the integration names them: push fields and identifiers."""
    return {
        f.integration_field: values[f.internal_field]
        for f in obj.fields
        if (f.pushes or f.internal_field in obj.unique_identifiers)
        and values.get(f.internal_field) is not None
    }


class AudienceReader:
    """Reads, batch by batch, the members of an audience's segment not yet mapped under it."""

    def __init__(
        self,
        *,
        integration: str,
        session_factory: async_sessionmaker[AsyncSession],
        batch_size: int = AUDIENCE_BATCH,
    ) -> None:
        self._integration = integration
        self._sessions = session_factory
        self._batch = batch_size

    async def segment_id(self, audience: Audience) -> int | None:
        async with self._sessions() as session:
            return await session.scalar(
                select(SegmentRow.id).where(SegmentRow.alias == audience.segment)
            )

    async def batches(
        self, audience: Audience, segment_id: int, obj: ObjectManual
    ) -> AsyncIterator[list[OrderItem]]:
        """Keyset over contact ids, so a member that fails is tried once per run."""
        contact = ContactRow.__table__.c
        member = SegmentMemberRow
        mapping = SyncObjectMappingRow
        mapped = exists().where(
            mapping.integration == self._integration,
            mapping.object == audience.object,
            mapping.contact_id == contact.id,
            mapping.deleted_at.is_(None),
        )
        after = 0
        while True:
            async with self._sessions() as session:
                rows = (
                    await session.execute(
                        select(contact.id, contact.fields, *(contact[c] for c in CORE_FIELDS))
                        .join(member, member.contact_id == contact.id)
                        .where(
                            member.segment_id == segment_id,
                            member.manually_removed.is_(False),
                            contact.id > after,
                            ~mapped,
                        )
                        .order_by(contact.id)
                        .limit(self._batch)
                    )
                ).all()
            if not rows:
                return
            after = rows[-1].id
            items = []
            for row in rows:
                values = {c: getattr(row, c) for c in CORE_FIELDS}
                values.update(row.fields or {})
                items.append(OrderItem(int(row.id), item_fields(obj, values)))
            yield items

    async def record_missing_segment(
        self, session: AsyncSession, audience: Audience, run_id: int | None, now: datetime
    ) -> SyncFailure:
        """A failure row for an audience whose segment does not exist (the run is partial)."""
        failure = SyncFailure(
            direction=SyncDirection.PUSH,
            object=audience.object,
            message=(
                f"segment {audience.segment!r} does not exist; {self._integration} cannot "
                f"push its members to {audience.target}"
            ),
            run_id=run_id,
        )
        if run_id is not None:
            await session.execute(insert(ERRORS), [failure.to_row(self._integration, now)])
        return failure
