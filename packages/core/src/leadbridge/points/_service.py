from __future__ import annotations

import builtins
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from pydantic import BaseModel
from sqlalchemy import Select, Table, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .._errors import ConflictError, NotFoundError, ValidationError
from ..contacts import ContactRow
from ..db import utcnow
from ..events import Event, EventBus
from ._award import Grant, fire_reached, record_past_awards, watching_triggers, write_grant
from ._events import TriggerFired
from ._models import (
    PointActionRow,
    PointChangeRow,
    PointGroupRow,
    PointGroupScoreRow,
    PointTriggerEventRow,
    PointTriggerRow,
)
from ._settings import validate_settings
from ._triggers import BaseTriggerEvent, SegmentMembership, TriggerEventTypeRegistry
from ._types import BasePointActionType, PointActionTypeRegistry

log = logging.getLogger("leadbridge.points")

#: Largest change one action or adjustment may make (scores are 32-bit integers).
MAX_DELTA = 1_000_000

_UNSET: Any = object()
_CACHE_KEY = "leadbridge.points.transaction_cache"

_contacts = cast(Table, ContactRow.__table__)
_scores = cast(Table, PointGroupScoreRow.__table__)


@dataclass(frozen=True)
class PointGroup:
    id: int
    name: str
    description: str | None
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class PointAction:
    id: int
    name: str
    type: str
    delta: int
    settings: dict[str, Any]
    group: str | None
    repeatable: bool
    published: bool
    created_at: datetime
    updated_at: datetime
    group_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "type": self.type,
            "delta": self.delta,
            "settings": dict(self.settings),
            "group": self.group,
            "repeatable": self.repeatable,
            "published": self.published,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


@dataclass(frozen=True)
class PointChange:
    """One row of a contact's points history."""

    id: int
    contact_id: int
    delta: int
    reason: str
    #: The group whose score changed; ``None`` for the contact's total.
    group: str | None
    #: The action that awarded it; ``None`` for a manual adjustment.
    action_id: int | None
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "contact_id": self.contact_id,
            "delta": self.delta,
            "reason": self.reason,
            "group": self.group,
            "action_id": self.action_id,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class PointHistory:
    """A page of history, newest first; pass ``next_before`` back for the next page."""

    items: list[PointChange]
    next_before: int | None


@dataclass(frozen=True)
class PointTriggerEvent:
    type: str
    settings: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "settings": dict(self.settings)}


@dataclass(frozen=True)
class PointTrigger:
    id: int
    name: str
    threshold: int
    #: The group whose score is watched; ``None`` for the contact's total.
    group: str | None
    published: bool
    events: tuple[PointTriggerEvent, ...]
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "threshold": self.threshold,
            "group": self.group,
            "published": self.published,
            "events": [e.to_dict() for e in self.events],
            "created_at": self.created_at.isoformat(),
        }


class PointsService:
    """Point actions, groups, awarding, history and threshold triggers.

    ``action_types`` and ``trigger_event_types`` extend core's (plugins hand theirs in through
    the container). ``segment_membership`` is what the segment trigger events write through;
    by default the segments tables are written directly, and a clear
    :class:`~leadbridge.ConfigurationError` says so when segments are not installed.

    :meth:`subscribe` subscribes every action type that declares ``events`` (core's "contact
    created", "field changed to a value" and "tag added") to ``event_bus``: from then on,
    contact writes award points in their own transaction. Building the service subscribes
    nothing; the container's :func:`~leadbridge.start` calls :meth:`subscribe` (and
    :func:`~leadbridge.shutdown` :meth:`unsubscribe`). Build one service per event bus (the
    container's singleton).

    Every write takes an optional ``session``: given one, the write joins that transaction
    (a sync page, an event handler); otherwise it runs in a transaction of its own.
    """

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        event_bus: EventBus,
        action_types: Sequence[BasePointActionType[Any]] = (),
        trigger_event_types: Sequence[BaseTriggerEvent[Any]] = (),
        segment_membership: SegmentMembership | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._bus = event_bus
        self.action_types = PointActionTypeRegistry(action_types)
        self.trigger_event_types = TriggerEventTypeRegistry(
            trigger_event_types, event_bus=event_bus, segment_membership=segment_membership
        )
        self._subscriptions: list[tuple[type[Event], Callable[[Any], Awaitable[None]]]] = []

    # -- event bus -----------------------------------------------------------------------

    def subscribe(self) -> None:
        """Award from the event bus: each type's ``events`` fire ``trigger`` (idempotent)."""
        if self._subscriptions:
            return
        for action_type in self.action_types:
            for event_type in action_type.events:
                handler = functools.partial(self._on_event, action_type)
                self._bus.subscribe(event_type, handler)
                self._subscriptions.append((event_type, handler))

    def unsubscribe(self) -> None:
        for event_type, handler in self._subscriptions:
            self._bus.unsubscribe(event_type, handler)
        self._subscriptions.clear()

    async def _on_event(self, action_type: BasePointActionType[Any], event: Event) -> None:
        found = action_type.details_from(event)
        if found is None:
            return
        contact_id, details = found
        if event.session is not None:
            await self._award(event.session, action_type, contact_id, dict(details or {}))
        else:
            await self.trigger(action_type.key, contact_id, details)

    @asynccontextmanager
    async def _transaction(self, session: AsyncSession | None) -> AsyncIterator[AsyncSession]:
        if session is not None:
            yield session
            return
        async with self._session_factory.begin() as own:
            yield own

    # -- groups --------------------------------------------------------------------------

    async def create_group(self, name: str, *, description: str | None = None) -> PointGroup:
        name = _text(name, "name")
        row = PointGroupRow(name=name, description=description or None)
        try:
            async with self._session_factory.begin() as session:
                session.add(row)
        except IntegrityError as exc:
            raise ConflictError(f"point group {name!r} already exists", field="name") from exc
        return _group(row)

    async def list_groups(self) -> list[PointGroup]:
        async with self._session_factory() as session:
            rows = (await session.scalars(select(PointGroupRow).order_by(PointGroupRow.name))).all()
        return [_group(r) for r in rows]

    async def group_scores(self, contact_id: int) -> dict[str, int]:
        """The contact's score in each group it has points in, by group name."""
        async with self._session_factory() as session:
            await _require_contact(session, contact_id)
            rows = await session.execute(
                select(PointGroupRow.name, PointGroupScoreRow.points)
                .join(PointGroupRow, PointGroupRow.id == PointGroupScoreRow.group_id)
                .where(PointGroupScoreRow.contact_id == contact_id)
                .order_by(PointGroupRow.name)
            )
            return {name: points for name, points in rows.all()}

    # -- actions -------------------------------------------------------------------------

    async def create_action(
        self,
        name: str,
        type: str,
        delta: int,
        *,
        settings: Mapping[str, Any] | BaseModel | None = None,
        group: str | int | None = None,
        repeatable: bool = False,
        published: bool = True,
    ) -> PointAction:
        """Configure an action; ``settings`` are validated against the type's schema."""
        name = _text(name, "name")
        action_type = self.action_types.get(type)
        delta = _delta(delta)
        parsed = action_type.validate_settings(settings)
        async with self._session_factory.begin() as session:
            group_id = await _group_id(session, group) if group is not None else None
            row = PointActionRow(
                name=name,
                type=action_type.key,
                delta=delta,
                settings=parsed.model_dump(mode="json"),
                group_id=group_id,
                repeatable=bool(repeatable),
                published=bool(published),
            )
            session.add(row)
            await session.flush()
            return await self._action(session, row)

    async def update_action(
        self,
        action_id: int,
        *,
        name: str | None = None,
        delta: int | None = None,
        settings: Mapping[str, Any] | BaseModel | None = None,
        group: str | int | None = _UNSET,
        repeatable: bool | None = None,
        published: bool | None = None,
    ) -> PointAction:
        """Change the given attributes; ``group=None`` takes the action out of its group.

        Making a repeatable action non-repeatable records the contacts it has already
        awarded, so that they are not awarded again.
        """
        async with self._session_factory.begin() as session:
            row = await session.get(PointActionRow, action_id, with_for_update=True)
            if row is None:
                raise NotFoundError(f"point action {action_id} does not exist")
            if name is not None:
                row.name = _text(name, "name")
            if delta is not None:
                row.delta = _delta(delta)
            if settings is not None:
                action_type = self.action_types.get(row.type)
                row.settings = action_type.validate_settings(settings).model_dump(mode="json")
            if group is not _UNSET:
                row.group_id = await _group_id(session, group) if group is not None else None
            if published is not None:
                row.published = bool(published)
            if repeatable is not None:
                if row.repeatable and not repeatable:
                    await record_past_awards(session, row.id)
                row.repeatable = bool(repeatable)
            row.updated_at = utcnow()
            await session.flush()
            return await self._action(session, row)

    async def get_action(self, action_id: int) -> PointAction:
        async with self._session_factory() as session:
            row = await session.get(PointActionRow, action_id)
            if row is None:
                raise NotFoundError(f"point action {action_id} does not exist")
            return await self._action(session, row)

    async def list_actions(self, *, type: str | None = None) -> builtins.list[PointAction]:
        stmt = select(PointActionRow).order_by(PointActionRow.id)
        if type is not None:
            stmt = stmt.where(PointActionRow.type == type)
        async with self._session_factory() as session:
            rows = (await session.scalars(stmt)).all()
            names = await _group_names(session)
        return [_action(r, names) for r in rows]

    async def _action(self, session: AsyncSession, row: PointActionRow) -> PointAction:
        names = await _group_names(session) if row.group_id is not None else {}
        return _action(row, names)

    # -- awarding ------------------------------------------------------------------------

    async def trigger(
        self,
        type_key: str,
        contact_id: int,
        details: Mapping[str, Any] | None = None,
        *,
        session: AsyncSession | None = None,
    ) -> builtins.list[PointAction]:
        """Award every published action of ``type_key`` whose settings match ``details``.

        A non-repeatable action awards once per contact ever: the database's unique award key
        decides, so two concurrent triggers cannot both award. Returns the actions that
        awarded. Runs in ``session``'s transaction when given (an event handler's).
        """
        action_type = self.action_types.get(type_key)
        facts = dict(details or {})
        if session is not None:
            # No context manager here: an event handler triggers once per created contact.
            return await self._award(session, action_type, contact_id, facts)
        async with self._session_factory.begin() as own:
            return await self._award(own, action_type, contact_id, facts)

    async def _award(
        self,
        session: AsyncSession,
        action_type: BasePointActionType[Any],
        contact_id: int,
        facts: dict[str, Any],
    ) -> builtins.list[PointAction]:
        actions = await self._matching(session, action_type, facts)
        if not actions:
            return []
        await _require_contact(session, contact_id)
        awarded = []
        for action in actions:
            if await self._apply(session, _grant(action), [contact_id]):
                awarded.append(action)
        return awarded

    async def award_bulk(
        self,
        action: int | str,
        contact_ids: Iterable[int] | Select[Any],
        details: Mapping[str, Any] | None = None,
        *,
        session: AsyncSession | None = None,
    ) -> dict[int, int]:
        """Award to many contacts at once in set-based SQL; returns ``{action_id: awarded}``.

        ``action`` is an action id (awarded if published; ``details``, when given, must match
        its settings) or a type key (every published action of the type whose settings match
        ``details``). ``contact_ids`` is an iterable of ids or a one-column SELECT of ids;
        ids of contacts that do not exist are skipped. Non-repeatable actions skip contacts
        already awarded, so a replayed batch awards nothing twice.
        """
        async with self._transaction(session) as s:
            if isinstance(action, str):
                action_type = self.action_types.get(action)
                actions = await self._matching(s, action_type, dict(details or {}))
            else:
                row = await s.get(PointActionRow, action)
                if row is None:
                    raise NotFoundError(f"point action {action} does not exist")
                one = await self._action(s, row)
                actions = [one] if one.published else []
                if actions and details is not None:
                    actions = await self._filter(s, actions, dict(details))
            if not actions:
                return {}
            targets: Sequence[int] | Select[Any]
            if isinstance(contact_ids, Select):
                # Evaluated once when several actions apply: each award changes scores the
                # select may read.
                targets = list(await s.scalars(contact_ids)) if len(actions) > 1 else contact_ids
            else:
                targets = list(dict.fromkeys(int(c) for c in contact_ids))
            if not isinstance(targets, Select) and not targets:
                return {}
            return {a.id: await self._apply(s, _grant(a), targets) for a in actions}

    async def adjust(
        self,
        contact_id: int,
        delta: int,
        reason: str,
        *,
        group: str | int | None = None,
        session: AsyncSession | None = None,
    ) -> int:
        """Add ``delta`` (may be negative) to the total or a group score; returns the new score."""
        delta = _delta(delta)
        reason = _text(reason, "reason")
        async with self._transaction(session) as s:
            await _require_contact(s, contact_id)
            group_id = await _group_id(s, group) if group is not None else None
            await self._apply(s, Grant(None, group_id, delta, reason, once=False), [contact_id])
            return await _score(s, contact_id, group_id)

    async def history(
        self, contact_id: int, *, limit: int = 50, before: int | None = None
    ) -> PointHistory:
        """The contact's points changes, newest first, ``limit`` at a time (keyset on id)."""
        if not 1 <= limit <= 1000:
            raise ValidationError("limit must be between 1 and 1000", field="limit", value=limit)
        stmt = (
            select(PointChangeRow, PointGroupRow.name)
            .outerjoin(PointGroupRow, PointGroupRow.id == PointChangeRow.group_id)
            .where(PointChangeRow.contact_id == contact_id)
            .order_by(PointChangeRow.id.desc())
            .limit(limit + 1)
        )
        if before is not None:
            stmt = stmt.where(PointChangeRow.id < before)
        async with self._session_factory() as session:
            await _require_contact(session, contact_id)
            rows = (await session.execute(stmt)).all()
        items = [
            PointChange(
                id=r.id,
                contact_id=r.contact_id,
                delta=r.delta,
                reason=r.reason,
                group=group,
                action_id=r.action_id,
                created_at=r.created_at,
            )
            for r, group in rows[:limit]
        ]
        return PointHistory(items, items[-1].id if len(rows) > limit else None)

    async def _matching(
        self, session: AsyncSession, action_type: BasePointActionType[Any], details: dict[str, Any]
    ) -> builtins.list[PointAction]:
        matched = []
        for action, settings in await self._published(session, action_type):
            if _matches(action_type, action, details, settings):
                matched.append(action)
        return matched

    async def _filter(
        self, session: AsyncSession, actions: Sequence[PointAction], details: dict[str, Any]
    ) -> builtins.list[PointAction]:
        out = []
        for action in actions:
            action_type = self.action_types.get(action.type)
            published = {a.id: s for a, s in await self._published(session, action_type)}
            settings = published.get(action.id)
            if settings is not None and _matches(action_type, action, details, settings):
                out.append(action)
        return out

    async def _published(
        self, session: AsyncSession, action_type: BasePointActionType[Any]
    ) -> builtins.list[tuple[PointAction, BaseModel]]:
        # Cached for the transaction: a bulk upsert publishes an event per created contact,
        # and reading the actions once per contact would cost a query each. Every type's
        # actions come in one query (there are few): a sync page asks for several types.
        cache = _transaction_cache(session)
        key = ("actions", action_type.key)
        if key not in cache:
            if "published" not in cache:
                cache["published"] = (
                    await session.scalars(
                        select(PointActionRow)
                        .where(PointActionRow.published)
                        .order_by(PointActionRow.id)
                    )
                ).all()
            rows = [r for r in cache["published"] if r.type == action_type.key]
            names = await _group_names(session) if any(r.group_id for r in rows) else {}
            found = []
            for row in rows:
                try:
                    settings = action_type.validate_settings(row.settings)
                except ValidationError as exc:
                    log.warning("point action %s skipped: stored %s", row.id, exc.message)
                    continue
                found.append((_action(row, names), settings))
            cache[key] = found
        return cast(builtins.list[tuple[PointAction, BaseModel]], cache[key])

    async def _apply(
        self, session: AsyncSession, grant: Grant, contacts: Sequence[int] | Select[Any]
    ) -> int:
        """Apply ``grant`` to ``contacts``, fire the triggers they reach; returns how many."""
        cache = _transaction_cache(session)
        key = ("thresholds", grant.group_id)
        if key not in cache:
            cache[key] = await watching_triggers(session, grant.group_id)
        granted = await write_grant(session, grant, contacts, cache[key])
        await self._run_fired(session, granted.fired)
        return granted.count

    # -- triggers ------------------------------------------------------------------------

    async def create_trigger(
        self,
        name: str,
        threshold: int,
        events: Sequence[Mapping[str, Any]],
        *,
        group: str | int | None = None,
        published: bool = True,
        apply_to_existing: bool = False,
    ) -> PointTrigger:
        """A trigger that runs ``events`` (``[{"type": …, "settings": {…}}, …]``) in order
        for each contact whose total (or ``group`` score) reaches ``threshold``, once per
        contact. ``apply_to_existing`` fires it at once for contacts already there."""
        name = _text(name, "name")
        if isinstance(threshold, bool) or not isinstance(threshold, int):
            raise ValidationError("threshold must be an integer", field="threshold")
        if not events:
            raise ValidationError("a trigger needs at least one event", field="events")
        parsed = []
        for i, event in enumerate(events):
            if not isinstance(event, Mapping) or "type" not in event:
                raise ValidationError(
                    f"events[{i}]: expected an object with type and settings",
                    field=f"events[{i}]",
                )
            event_type = self.trigger_event_types.get(str(event["type"]), field=f"events[{i}].type")
            settings = validate_settings(
                event_type.settings_schema, event.get("settings"), f"events[{i}].settings"
            )
            parsed.append((event_type, settings))
        async with self._session_factory.begin() as session:
            for i, (event_type, settings) in enumerate(parsed):
                try:
                    await event_type.check(session, settings)
                except ValidationError as exc:
                    raise ValidationError(
                        f"events[{i}]: {exc.message}",
                        field=f"events[{i}].{exc.field}" if exc.field else f"events[{i}]",
                        value=exc.value,
                    ) from exc
            group_id = await _group_id(session, group) if group is not None else None
            row = PointTriggerRow(
                name=name, threshold=threshold, group_id=group_id, published=bool(published)
            )
            session.add(row)
            await session.flush()
            session.add_all(
                PointTriggerEventRow(
                    trigger_id=row.id,
                    position=i,
                    type=event_type.key,
                    settings=settings.model_dump(mode="json"),
                )
                for i, (event_type, settings) in enumerate(parsed)
            )
            await session.flush()
            if apply_to_existing and published:
                watching = await watching_triggers(session, group_id, row.id)
                await self._run_fired(session, await fire_reached(session, group_id, watching))
            return (await _triggers(session, [row.id]))[0]

    async def list_triggers(self) -> builtins.list[PointTrigger]:
        async with self._session_factory() as session:
            return await _triggers(session, None)

    async def get_trigger(self, trigger_id: int) -> PointTrigger:
        async with self._session_factory() as session:
            found = await _triggers(session, [trigger_id])
        if not found:
            raise NotFoundError(f"point trigger {trigger_id} does not exist")
        return found[0]

    async def _run_fired(self, session: AsyncSession, fired: Mapping[int, Sequence[int]]) -> None:
        """Run the events of each fired trigger for its contacts, then publish TriggerFired."""
        if not fired:
            return
        for trigger in await _triggers(session, sorted(fired)):
            ids = sorted(fired[trigger.id])
            for event in trigger.events:
                if event.type not in self.trigger_event_types:
                    log.warning(
                        "trigger %s: event type %r is not installed; skipped",
                        trigger.id,
                        event.type,
                    )
                    continue
                event_type = self.trigger_event_types.get(event.type)
                settings = event_type.validate_settings(event.settings)
                await event_type.apply(session, ids, settings)
            await self._bus.publish(
                TriggerFired(
                    trigger_id=trigger.id,
                    trigger_name=trigger.name,
                    threshold=trigger.threshold,
                    group=trigger.group,
                    contact_ids=tuple(ids),
                    session=session,
                )
            )


# -- helpers ------------------------------------------------------------------------------


def _transaction_cache(session: AsyncSession) -> dict[Any, Any]:
    """A dict that lives as long as the session's current transaction."""
    info = session.sync_session.info
    transaction = session.sync_session.get_transaction()
    cached = info.get(_CACHE_KEY)
    if cached is None or cached[0] is not transaction:
        cached = (transaction, {})
        info[_CACHE_KEY] = cached
    return cast(dict[Any, Any], cached[1])


def _matches(
    action_type: BasePointActionType[Any],
    action: PointAction,
    details: Mapping[str, Any],
    settings: BaseModel,
) -> bool:
    try:
        return bool(action_type.matches(details, settings))
    except Exception:
        # A plugin's matcher bug must not abort the contact write that published the event.
        log.exception("point action %s: matcher of %r failed; not awarded", action.id, action.type)
        return False


def _grant(action: PointAction) -> Grant:
    return Grant(action.id, action.group_id, action.delta, action.name, once=not action.repeatable)


def _text(value: Any, field: str, max_length: int = 255) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > max_length:
        raise ValidationError(
            f"{field} must be non-empty text of at most {max_length} characters",
            field=field,
            value=value,
        )
    return text


def _delta(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(
            f"delta must be an integer, got {value!r}", field="delta", value=value
        )
    if value == 0 or abs(value) > MAX_DELTA:
        raise ValidationError(
            f"delta must be non-zero and between -{MAX_DELTA} and {MAX_DELTA}",
            field="delta",
            value=value,
        )
    return value


async def _require_contact(session: AsyncSession, contact_id: int) -> None:
    found = await session.scalar(select(_contacts.c.id).where(_contacts.c.id == contact_id))
    if found is None:
        raise NotFoundError(f"contact {contact_id} does not exist")


async def _group_id(session: AsyncSession, group: str | int) -> int:
    if isinstance(group, str):
        found = await session.scalar(
            select(PointGroupRow.id).where(PointGroupRow.name == group.strip())
        )
    else:
        found = await session.scalar(select(PointGroupRow.id).where(PointGroupRow.id == group))
    if found is None:
        raise NotFoundError(f"point group {group!r} does not exist")
    return int(found)


async def _group_names(session: AsyncSession) -> dict[int, str]:
    rows = await session.execute(select(PointGroupRow.id, PointGroupRow.name))
    return {gid: name for gid, name in rows.all()}


async def _score(session: AsyncSession, contact_id: int, group_id: int | None) -> int:
    if group_id is None:
        value = await session.scalar(select(_contacts.c.points).where(_contacts.c.id == contact_id))
    else:
        value = await session.scalar(
            select(_scores.c.points).where(
                _scores.c.contact_id == contact_id, _scores.c.group_id == group_id
            )
        )
    return int(value or 0)


async def _triggers(session: AsyncSession, ids: Sequence[int] | None) -> list[PointTrigger]:
    stmt = select(PointTriggerRow).order_by(PointTriggerRow.id)
    if ids is not None:
        stmt = stmt.where(PointTriggerRow.id.in_(ids))
    rows = (await session.scalars(stmt)).all()
    if not rows:
        return []
    events: dict[int, list[PointTriggerEvent]] = {r.id: [] for r in rows}
    for ev in (
        await session.scalars(
            select(PointTriggerEventRow)
            .where(PointTriggerEventRow.trigger_id.in_(list(events)))
            .order_by(PointTriggerEventRow.trigger_id, PointTriggerEventRow.position)
        )
    ).all():
        events[ev.trigger_id].append(PointTriggerEvent(ev.type, dict(ev.settings or {})))
    names = await _group_names(session) if any(r.group_id for r in rows) else {}
    return [
        PointTrigger(
            id=r.id,
            name=r.name,
            threshold=r.threshold,
            group=names.get(r.group_id) if r.group_id is not None else None,
            published=r.published,
            events=tuple(events[r.id]),
            created_at=r.created_at,
        )
        for r in rows
    ]


def _group(row: PointGroupRow) -> PointGroup:
    return PointGroup(row.id, row.name, row.description, row.created_at)


def _action(row: PointActionRow, group_names: Mapping[int, str]) -> PointAction:
    return PointAction(
        id=row.id,
        name=row.name,
        type=row.type,
        delta=row.delta,
        settings=dict(row.settings or {}),
        group=group_names.get(row.group_id) if row.group_id is not None else None,
        repeatable=row.repeatable,
        published=row.published,
        created_at=row.created_at,
        updated_at=row.updated_at,
        group_id=row.group_id,
    )
