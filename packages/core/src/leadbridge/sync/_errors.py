"""Sync errors. Each branch says what the engine (and a caller) does next.

* :class:`SyncObjectError` — one object cannot be synced (a bad email, a value of the wrong
  type, a push the integration refused). *Skippable*: the engine records it in
  ``sync_errors``, counts it in ``failed`` and syncs the rest; the run ends ``partial``.
* :class:`SyncObjectSkipped` — an object deliberately left out (a person without an email, a
  team member): recorded with its reason and counted in ``skipped``, not a failure — the run
  can still succeed.
* :class:`SyncRunError` — the run cannot proceed (bad credentials, the service is down).
  *Fatal*: the run ends ``failed``; the page being read is not applied, so no cursor moves
  past it. Any other exception raised by an exchange is treated the same way.
* :class:`SyncLeaseLostError` — a :class:`SyncRunError`: the run stopped hearing from the
  database for longer than the lease timeout (its process was paused, the network cut) and
  another run took the lease over. It stops without writing more; the run that took over (or
  the next one) resumes from the last committed page.
* :class:`SyncLockedError` — another run of the same integration holds the lease. Nothing was
  started; try again when that run has finished.
"""

from __future__ import annotations

from .._errors import ConflictError, LeadBridgeError


class SyncError(LeadBridgeError):
    """Root of the sync engine's errors."""

    code = "SYNC_ERROR"


class SyncObjectError(SyncError):
    """One object could not be synced; the run goes on without it.

    Raise it from an exchange (or return a failed result) for an object the integration
    rejects; ``integration_id``, ``contact_id`` and ``field`` say which one, when known.
    """

    code = "SYNC_OBJECT_ERROR"

    def __init__(
        self,
        message: str,
        *,
        integration_id: str | None = None,
        contact_id: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.integration_id = integration_id
        self.contact_id = contact_id
        self.field = field


class SyncObjectSkipped(SyncObjectError):
    """An object the exchange leaves out on purpose; put it in ``ReportPage.errors``.

    Recorded in ``sync_errors`` (``skipped``) with the reason and counted in ``skipped``;
    unlike a failure it does not make the run ``partial``.
    """

    code = "SYNC_OBJECT_SKIPPED"


class SyncRunError(SyncError):
    """The run cannot go on (bad credentials, the remote service refuses every call)."""

    code = "SYNC_RUN_ERROR"


class SyncLeaseLostError(SyncRunError):
    """Another run took the lease over; ``taken_by`` names it (when it is known)."""

    code = "SYNC_LEASE_LOST"

    def __init__(
        self, *, integration: str, run_id: int, taken_by: int | None, holder: str | None
    ) -> None:
        taker = f"run {taken_by} ({holder})" if taken_by is not None else "another run"
        super().__init__(
            f"run {run_id} of {integration} lost its lease to {taker}: this process was out "
            "of touch for longer than the lease timeout; it stopped without writing more, and "
            "the sync resumes from the last committed page in that run (or the next one)"
        )
        self.integration = integration
        self.run_id = run_id
        self.taken_by = taken_by


class SyncLockedError(SyncError, ConflictError):
    """Another run of the integration holds the lease; ``run_id`` names it."""

    code = "SYNC_LOCKED"

    def __init__(self, message: str, *, integration: str, run_id: int | None) -> None:
        ConflictError.__init__(self, message)
        self.integration = integration
        self.run_id = run_id
