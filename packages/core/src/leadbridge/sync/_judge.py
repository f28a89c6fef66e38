"""The sync judge: who wins a field that changed on both sides."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Verdict:
    """``winner`` is ``"internal"`` or ``"integration"``; ``conflict`` when both had changed."""

    winner: str
    conflict: bool


TAKE_INTEGRATION = Verdict("integration", False)
KEEP_INTERNAL = Verdict("internal", False)
CONFLICT_INTEGRATION = Verdict("integration", True)
CONFLICT_INTERNAL = Verdict("internal", True)


class SyncJudge:
    """Decides one field whose pulled value differs from the contact's.

    * the contact's field did not change since the object was last synced → the integration's
      value is taken (nothing to defend);
    * it did, and the integration's field did not change since then → the contact keeps its
      value (push will send it);
    * both changed → a conflict: the newer change wins; an exact tie goes to ``winner``.

    Internal changes are timed by the change log (changes by the integration itself do not
    count), integration changes by the field's own change time, else the object's.
    """

    def __init__(self, winner: str = "internal") -> None:
        self._tie = CONFLICT_INTERNAL if winner == "internal" else CONFLICT_INTEGRATION

    def decide(
        self,
        *,
        internal_changed_at: datetime | None,
        integration_changed_at: datetime,
        last_synced_at: datetime | None,
        integration_seen_at: datetime | None,
    ) -> Verdict:
        if internal_changed_at is None or (
            last_synced_at is not None and internal_changed_at <= last_synced_at
        ):
            return TAKE_INTEGRATION
        if integration_seen_at is not None and integration_changed_at <= integration_seen_at:
            return KEEP_INTERNAL
        if integration_changed_at > internal_changed_at:
            return CONFLICT_INTEGRATION
        if internal_changed_at > integration_changed_at:
            return CONFLICT_INTERNAL
        return self._tie
