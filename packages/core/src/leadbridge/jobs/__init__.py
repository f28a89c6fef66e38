"""Jobs: what runs without a person asking — syncs, segment rebuilds, change-log pruning and
plugin kinds — as plain async functions of explicit values; schedules as rows; two runners.

* PostgreSQL: :class:`JobQueue` (procrastinate) — ``leadbridge worker`` on any number of
  machines, per-integration ``lock`` and ``queueing_lock``, retries with backoff, stalled jobs
  of dead workers queued again, a graceful stop.
* SQLite: :class:`EmbeddedRunner` — one process runs due schedules by calling the same job
  functions.

Plugins add job kinds with :class:`BaseJobKind` (their container's ``job_kinds`` list).
"""

from ._catalog import JobCatalog
from ._embedded import EmbeddedRunner, Fired
from ._errors import (
    FatalJobError,
    InvalidScheduleError,
    JobError,
    JobInterruptedError,
    QueueUnavailableError,
    RetriableJobError,
)
from ._functions import options_from_dict, prune_change_log_job, rebuild_segments_job, sync_job
from ._kinds import BaseJobKind, JobKind
from ._models import JobErrorRow, ScheduleRow
from ._queue import JobQueue, JobStatus, QueuedJob, sync_lock
from ._schedules import Schedule, ScheduleService, check_cron, next_due
from ._snapshot import JobQueueSnapshot, KindLoad, WorkerHeartbeat

__all__ = [
    "BaseJobKind",
    "EmbeddedRunner",
    "FatalJobError",
    "Fired",
    "InvalidScheduleError",
    "JobCatalog",
    "JobError",
    "JobErrorRow",
    "JobInterruptedError",
    "JobKind",
    "JobQueue",
    "JobQueueSnapshot",
    "JobStatus",
    "KindLoad",
    "QueueUnavailableError",
    "QueuedJob",
    "RetriableJobError",
    "Schedule",
    "ScheduleRow",
    "ScheduleService",
    "WorkerHeartbeat",
    "check_cron",
    "next_due",
    "options_from_dict",
    "prune_change_log_job",
    "rebuild_segments_job",
    "sync_job",
    "sync_lock",
]
