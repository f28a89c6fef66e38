from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..events import Event
from ._exchange import ReportObject


@dataclass(frozen=True, kw_only=True)
class BatchSynced(Event):
    """A pulled page was applied; published inside the page's transaction.

    ``pairs`` are the page's objects with the contact each resolved to (created, updated or
    unchanged; objects that failed or were deleted are left out). Handlers write through
    ``session`` so that their rows (a plugin's registrations, awarded points) commit or roll
    back with the page. A handler that raises rolls the page back and fails the run.
    """

    integration: str
    object: str
    run_id: int | None
    pairs: Sequence[tuple[ReportObject, int]]
