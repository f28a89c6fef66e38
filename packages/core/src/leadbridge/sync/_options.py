"""How to run a sync: its options, what started it and the directions it moves data in."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from .._errors import ValidationError

#: Which contacts push may create in the integration: a ``SELECT`` of contact ids (a segment's
#: members, say) or an async callable ``(session, contact_ids) -> the ids allowed``.
ContactFilter = Select[Any] | Callable[[AsyncSession, Sequence[int]], Awaitable[Collection[int]]]


class SyncTrigger(enum.StrEnum):
    CLI = "cli"
    API = "api"
    WEBHOOK = "webhook"
    SCHEDULE = "schedule"


class SyncDirection(enum.StrEnum):
    """Which way data moves: ``pull`` (integration → contacts) or ``push`` (the reverse).

    A string enum: it compares equal to ``"pull"`` / ``"push"`` as stored in ``sync_errors``.
    """

    PULL = "pull"
    PUSH = "push"


@dataclass(frozen=True)
class SyncOptions:
    """How to run a sync.

    ``since``: pull objects changed from this date, ignoring the stored cursor (the first
    sync from a date). ``full``: ignore cursors — pull everything and push every contact.
    ``pull_only`` / ``push_only``: one direction. ``dry_run``: compute and report every change,
    write nothing (no run row either; push counts as if the pull had not run, since its
    mappings were not written). ``ids``: only these integration ids (a targeted repair:
    cursors do not move, push makes no creates). ``create_filter``: push creates only contacts
    this filter lets through (a segment's members).
    """

    full: bool = False
    since: datetime | None = None
    pull_only: bool = False
    push_only: bool = False
    dry_run: bool = False
    ids: frozenset[str] | None = None
    create_filter: ContactFilter | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.pull_only and self.push_only:
            raise ValidationError("choose pull only or push only, not both", field="push_only")
        if self.since is not None and self.since.tzinfo is None:
            raise ValidationError(
                "since must be timezone-aware (UTC)", field="since", value=self.since
            )
        if self.ids is not None:
            object.__setattr__(self, "ids", frozenset(str(i) for i in self.ids))
            if not self.ids:
                raise ValidationError("ids is empty: give at least one id", field="ids")

    def to_dict(self) -> dict[str, Any]:
        return {
            "full": self.full,
            "since": self.since.isoformat() if self.since else None,
            "pull_only": self.pull_only,
            "push_only": self.push_only,
            "dry_run": self.dry_run,
            "ids": sorted(self.ids) if self.ids is not None else None,
            "create_filter": self.create_filter is not None,
        }
