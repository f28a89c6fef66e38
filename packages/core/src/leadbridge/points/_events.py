"""Events the points service publishes on the event bus (inside the awarding transaction)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..events import Event


@dataclass(frozen=True, kw_only=True)
class TriggerFired(Event):
    """A point trigger fired for ``contact_ids`` (after its trigger events ran).

    Published once per trigger and batch, with ``session`` = the awarding transaction.
    """

    trigger_id: int
    trigger_name: str
    threshold: int
    #: The group whose score reached the threshold; ``None`` for the contact's total.
    group: str | None
    contact_ids: tuple[int, ...]


@dataclass(frozen=True, kw_only=True)
class PointsThresholdReached(Event):
    """Published by the ``event.publish`` trigger event: a named signal plugins can handle.

    ``name`` and ``payload`` are what the operator configured on the trigger event
    (``{"name": "vip", "payload": {"session_id": "…"}}``).
    """

    name: str
    payload: dict[str, Any] = field(default_factory=dict)
    contact_ids: tuple[int, ...]
