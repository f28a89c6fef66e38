"""The event bus: typed events, async subscribers.

Events that carry a ``session`` are published inside the writer's transaction: a subscriber
that writes through that session commits or rolls back with it. A subscriber that raises
aborts the publisher's transaction, so subscribers that must not do so catch their own errors.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

__all__ = [
    "ContactCreated",
    "ContactFieldChanged",
    "Event",
    "EventBus",
    "TagAdded",
]

log = logging.getLogger("leadbridge.events")


@dataclass(frozen=True, kw_only=True)
class Event:
    """Base of every event. ``session`` is the publisher's open transaction, when there is one."""

    session: AsyncSession | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, kw_only=True)
class ContactCreated(Event):
    contact_id: int
    source: str


@dataclass(frozen=True, kw_only=True)
class ContactFieldChanged(Event):
    contact_id: int
    field: str
    old: Any
    new: Any
    source: str


@dataclass(frozen=True, kw_only=True)
class TagAdded(Event):
    contact_id: int
    tag: str


E = TypeVar("E", bound=Event)
Handler = Callable[[Any], Awaitable[None]]


class EventBus:
    """Dispatches an event to the subscribers of its class and of its base classes."""

    def __init__(self) -> None:
        self._subscribers: dict[type[Event], list[Handler]] = defaultdict(list)

    def subscribe(self, event_type: type[E], handler: Callable[[E], Awaitable[None]]) -> None:
        if handler not in self._subscribers[event_type]:
            self._subscribers[event_type].append(handler)

    def unsubscribe(self, event_type: type[E], handler: Callable[[E], Awaitable[None]]) -> None:
        if handler in self._subscribers.get(event_type, ()):
            self._subscribers[event_type].remove(handler)

    def handlers_for(self, event_type: type[Event]) -> Sequence[Handler]:
        return [h for cls in event_type.__mro__ for h in self._subscribers.get(cls, ())]

    def has_subscribers(self, event_type: type[Event]) -> bool:
        return bool(self.handlers_for(event_type))

    async def publish(self, event: Event) -> None:
        for handler in self.handlers_for(type(event)):
            await handler(event)
