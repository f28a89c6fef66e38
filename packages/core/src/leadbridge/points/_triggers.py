"""Trigger events: what a point trigger does for the contacts that reach its threshold."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import (
    BigInteger,
    Boolean,
    Integer,
    String,
    case,
    delete,
    func,
    inspect,
    literal,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.sql import column, table
from typing_extensions import override

from .._errors import ConfigurationError, ValidationError
from ..contacts import ContactRow, ContactTagRow, TagRow, ensure_tags
from ..db import UTCDateTime, dialect_insert, id_set, utcnow
from ..events import EventBus, TagAdded
from ._events import PointsThresholdReached
from ._settings import SettingsT, _Configurable, _Registry
from ._types import TagSettings

log = logging.getLogger("leadbridge.points")


class BaseTriggerEvent(_Configurable[SettingsT], ABC):
    """Something a point trigger does when contacts reach its threshold.

    Subclass it, set ``key``, ``label`` and ``settings_schema``, implement :meth:`apply`, and
    hand an instance to ``PointsService(trigger_event_types=[...])``::

        class NotifySales(BaseTriggerEvent[NotifySettings]):
            key = "crm.notify_sales"
            label = "Notify sales"
            settings_schema = NotifySettings

            @override
            async def apply(self, session, contact_ids, settings):
                await session.execute(insert(OutboxRow), [...])

    :meth:`apply` runs inside the awarding transaction (``session``) for every contact that
    crossed the threshold in one write; write through ``session`` so that the effect commits
    or rolls back with the points. An exception aborts that transaction.

    Optional hook: :meth:`check`, run when a trigger is saved, refuses settings that cannot
    work (a segment that does not exist).
    """

    @abstractmethod
    async def apply(
        self, session: AsyncSession, contact_ids: Sequence[int], settings: SettingsT
    ) -> None:
        """Do the event for ``contact_ids`` (each reached the threshold for the first time)."""

    async def check(self, session: AsyncSession, settings: SettingsT) -> None:
        """Raise :class:`ValidationError` or :class:`ConfigurationError` if it cannot run."""
        return None


class AddTagEvent(BaseTriggerEvent[TagSettings]):
    """Tag the contacts (publishes ``TagAdded`` for each contact that did not have the tag)."""

    key = "contact.add_tag"
    label = "Add a tag"
    settings_schema = TagSettings

    def __init__(self, event_bus: EventBus) -> None:
        self._bus = event_bus

    @override
    async def apply(
        self, session: AsyncSession, contact_ids: Sequence[int], settings: TagSettings
    ) -> None:
        tag_id = (await ensure_tags(session, [settings.tag]))[settings.tag]
        stmt = (
            dialect_insert(session, ContactTagRow.__table__)
            .from_select(
                ["contact_id", "tag_id"],
                select(ContactRow.id, literal(tag_id, Integer)).where(
                    ContactRow.id.in_(id_set(session, contact_ids))
                ),
            )
            .on_conflict_do_nothing()
            .returning(ContactTagRow.contact_id)
        )
        tagged = (await session.scalars(stmt)).all()
        for contact_id in tagged:
            await self._bus.publish(
                TagAdded(contact_id=contact_id, tag=settings.tag, session=session)
            )


class RemoveTagEvent(BaseTriggerEvent[TagSettings]):
    key = "contact.remove_tag"
    label = "Remove a tag"
    settings_schema = TagSettings

    @override
    async def apply(
        self, session: AsyncSession, contact_ids: Sequence[int], settings: TagSettings
    ) -> None:
        await session.execute(
            delete(ContactTagRow).where(
                ContactTagRow.tag_id.in_(select(TagRow.id).where(TagRow.name == settings.tag)),
                ContactTagRow.contact_id.in_(id_set(session, contact_ids)),
            )
        )


class PublishSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: The signal's name, which handlers filter on.
    name: str = Field(min_length=1, max_length=64)
    #: Anything handlers need (a webinar session id …), as JSON.
    payload: dict[str, Any] = Field(default_factory=dict)


class PublishEvent(BaseTriggerEvent[PublishSettings]):
    """Publish :class:`PointsThresholdReached` on the event bus for plugins to handle."""

    key = "event.publish"
    label = "Publish an event"
    settings_schema = PublishSettings

    def __init__(self, event_bus: EventBus) -> None:
        self._bus = event_bus

    @override
    async def apply(
        self, session: AsyncSession, contact_ids: Sequence[int], settings: PublishSettings
    ) -> None:
        await self._bus.publish(
            PointsThresholdReached(
                name=settings.name,
                payload=dict(settings.payload),
                contact_ids=tuple(contact_ids),
                session=session,
            )
        )


class SegmentMembership(Protocol):
    """Manual segment membership, as the segment trigger events need it.

    ``leadbridge.segments`` provides it; pass it to ``PointsService(segment_membership=…)``.
    Without one, the points service writes the segments tables directly (see
    :class:`TableSegmentMembership`).
    """

    async def has_segment(self, session: AsyncSession, alias: str) -> bool: ...

    async def add_manually(
        self, session: AsyncSession, alias: str, contact_ids: Sequence[int]
    ) -> None: ...

    async def remove_manually(
        self, session: AsyncSession, alias: str, contact_ids: Sequence[int]
    ) -> None: ...


_segments = table(
    "segments", column("id", Integer), column("alias", String), column("member_count", Integer)
)
_members = table(
    "segment_members",
    column("segment_id", Integer),
    column("contact_id", BigInteger),
    column("manually_added", Boolean),
    column("manually_removed", Boolean),
    column("added_at", UTCDateTime()),
)


class TableSegmentMembership:
    """Manual membership written straight into ``leadbridge.segments``' tables, in the
    caller's transaction, as ``SegmentService.add_contacts``/``remove_contacts`` write it.

    The tables are named with lightweight ``table()``/``column()`` constructs so that points
    does not import segments. A manual add sets ``manually_added`` (the contact stays whatever
    the filters say); a manual remove sets ``manually_removed`` (an exclusion rebuilds
    respect); a row whose membership flips gets the current time; the segment's
    ``member_count`` is recounted. When the tables do not exist, :class:`ConfigurationError`
    says segments are not installed.
    """

    def __init__(self) -> None:
        self._installed = False

    async def _require(self, session: AsyncSession) -> None:
        if self._installed:
            return

        def has_tables(sync: Session) -> bool:
            inspector = inspect(sync.connection())
            return bool(inspector.has_table("segments") and inspector.has_table("segment_members"))

        if not await session.run_sync(has_tables):
            raise ConfigurationError(
                "segments are not installed (no segments tables in the database): install "
                "leadbridge.segments and run `leadbridge db upgrade`, or drop the segment "
                "trigger events"
            )
        self._installed = True

    async def _segment_id(self, session: AsyncSession, alias: str) -> int | None:
        await self._require(session)
        value = await session.scalar(select(_segments.c.id).where(_segments.c.alias == alias))
        return None if value is None else int(value)

    async def has_segment(self, session: AsyncSession, alias: str) -> bool:
        return await self._segment_id(session, alias) is not None

    async def add_manually(
        self, session: AsyncSession, alias: str, contact_ids: Sequence[int]
    ) -> None:
        await self._write(session, alias, contact_ids, added=True)

    async def remove_manually(
        self, session: AsyncSession, alias: str, contact_ids: Sequence[int]
    ) -> None:
        await self._write(session, alias, contact_ids, added=False)

    async def _write(
        self, session: AsyncSession, alias: str, contact_ids: Sequence[int], *, added: bool
    ) -> None:
        segment_id = await self._segment_id(session, alias)
        if segment_id is None:
            raise ValidationError(f"segment {alias!r} does not exist", field="segment")
        now = utcnow()
        stmt = dialect_insert(session, _members).from_select(
            ["segment_id", "contact_id", "manually_added", "manually_removed", "added_at"],
            select(
                literal(segment_id, Integer),
                ContactRow.id,
                literal(added, Boolean),
                literal(not added, Boolean),
                literal(now, UTCDateTime()),
            ).where(ContactRow.id.in_(id_set(session, contact_ids))),
        )
        # Membership flips (excluded → member on an add, member → excluded on a remove).
        flips = _members.c.manually_removed if added else ~_members.c.manually_removed
        stmt = stmt.on_conflict_do_update(
            index_elements=["segment_id", "contact_id"],
            set_={
                "manually_added": added,
                "manually_removed": not added,
                "added_at": case((flips, stmt.excluded.added_at), else_=_members.c.added_at),
            },
        )
        await session.execute(stmt)
        members = (
            select(func.count())
            .select_from(_members)
            .where(_members.c.segment_id == segment_id, ~_members.c.manually_removed)
            .scalar_subquery()
        )
        await session.execute(
            update(_segments).where(_segments.c.id == segment_id).values(member_count=members)
        )


class SegmentSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: The segment's alias.
    segment: str = Field(min_length=1, max_length=64)

    @field_validator("segment")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()


class _SegmentEvent(BaseTriggerEvent[SegmentSettings]):
    settings_schema = SegmentSettings

    def __init__(self, membership: SegmentMembership) -> None:
        self._membership = membership

    @override
    async def check(self, session: AsyncSession, settings: SegmentSettings) -> None:
        if not await self._membership.has_segment(session, settings.segment):
            raise ValidationError(
                f"settings.segment: segment {settings.segment!r} does not exist",
                field="settings.segment",
                value=settings.segment,
            )


class AddToSegmentEvent(_SegmentEvent):
    """Add the contacts to a segment manually (kept by rebuilds whatever the filters say)."""

    key = "segment.add"
    label = "Add to a segment"

    @override
    async def apply(
        self, session: AsyncSession, contact_ids: Sequence[int], settings: SegmentSettings
    ) -> None:
        await self._membership.add_manually(session, settings.segment, contact_ids)


class RemoveFromSegmentEvent(_SegmentEvent):
    """Remove the contacts from a segment manually (an exclusion rebuilds respect)."""

    key = "segment.remove"
    label = "Remove from a segment"

    @override
    async def apply(
        self, session: AsyncSession, contact_ids: Sequence[int], settings: SegmentSettings
    ) -> None:
        await self._membership.remove_manually(session, settings.segment, contact_ids)


class TriggerEventTypeRegistry(_Registry[BaseTriggerEvent[Any]]):
    """Core's trigger events plus ``trigger_event_types`` (from plugins); keys are unique."""

    kind = "trigger event type"

    def __init__(
        self,
        trigger_event_types: Sequence[BaseTriggerEvent[Any]] = (),
        *,
        event_bus: EventBus,
        segment_membership: SegmentMembership | None = None,
    ) -> None:
        membership = segment_membership or TableSegmentMembership()
        super().__init__(
            [
                AddTagEvent(event_bus),
                RemoveTagEvent(),
                AddToSegmentEvent(membership),
                RemoveFromSegmentEvent(membership),
                PublishEvent(event_bus),
                *trigger_event_types,
            ]
        )
