"""The job functions: plain async functions of explicit values, the same for every runner."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .._errors import ConfigurationError, LeadBridgeError, NotFoundError, ValidationError
from ..contacts import ChangeLogService
from ..segments import RebuildResult, SegmentService
from ..sync import (
    SyncLockedError,
    SyncOptions,
    SyncResult,
    SyncRunError,
    SyncService,
    SyncStatus,
    SyncTrigger,
)
from ._errors import FatalJobError, JobInterruptedError, RetriableJobError


async def sync_job(
    sync: SyncService,
    integration: str,
    options: SyncOptions | None = None,
    *,
    run_id: int | None = None,
    trigger: SyncTrigger = SyncTrigger.SCHEDULE,
    stop: asyncio.Event | None = None,
) -> SyncResult:
    """Sync ``integration``; ``run_id`` runs (or resumes) a queued run.

    Raises :class:`RetriableJobError` when the run failed for a reason that may pass or another
    run holds the integration, :class:`FatalJobError` when it cannot work as configured, and
    :class:`JobInterruptedError` when ``stop`` ended it after a page (it stays resumable).
    """
    try:
        result = await sync.start(integration, options, trigger, run_id=run_id, stop=stop)
    except SyncLockedError as exc:
        raise RetriableJobError(str(exc)) from exc
    except (ConfigurationError, NotFoundError, ValidationError, SyncRunError) as exc:
        raise FatalJobError(f"sync {integration}: {exc}") from exc
    if result.status is SyncStatus.QUEUED:
        raise JobInterruptedError(f"sync {integration} (run {result.run_id}) {result.error}")
    if result.status is SyncStatus.FAILED:
        message = f"sync {integration} (run {result.run_id}) failed: {result.error}"
        raise RetriableJobError(message) if result.retriable else FatalJobError(message)
    return result


async def rebuild_segments_job(
    segments: SegmentService, alias: str | None = None
) -> list[RebuildResult]:
    """Rebuild one segment, or every segment in dependency order (``alias`` ``None``)."""
    try:
        if alias is None:
            return await segments.rebuild_all()
        return [await segments.rebuild(alias)]
    except LeadBridgeError as exc:
        raise FatalJobError(f"segments {alias or 'all'}: {exc}") from exc


async def prune_change_log_job(change_log: ChangeLogService) -> int:
    """Delete the change-log rows every consumer has read; returns how many went."""
    return await change_log.prune()


def options_from_dict(doc: Mapping[str, Any] | None) -> SyncOptions:
    """The :class:`SyncOptions` of ``SyncOptions.to_dict()`` (what a queued job carries)."""
    doc = doc or {}
    if doc.get("create_filter"):
        raise ValidationError(
            "a sync with a create filter cannot be queued (the filter is code); run it now",
            field="create_filter",
        )
    since = doc.get("since")
    ids = doc.get("ids")
    return SyncOptions(
        full=bool(doc.get("full")),
        since=datetime.fromisoformat(since) if since else None,
        pull_only=bool(doc.get("pull_only")),
        push_only=bool(doc.get("push_only")),
        dry_run=bool(doc.get("dry_run")),
        ids=frozenset(str(i) for i in ids) if ids is not None else None,
    )
