"""Job errors. Each branch says what a runner does next.

* :class:`RetriableJobError` — try the job again later (the remote service is down, rate
  limited, or another run holds the integration): the queue retries it with exponential backoff.
* :class:`FatalJobError` — trying again will not help (bad credentials, a bad mapping): the job
  fails once, with the reason.
* :class:`QueueUnavailableError` — there is no job queue on this database (SQLite): run the job
  now or use PostgreSQL.
* :class:`InvalidScheduleError` — a schedule that cannot be stored (a bad cron expression, an
  unknown time zone or job kind); ``field`` names it.
"""

from __future__ import annotations

from .._errors import ConfigurationError, LeadBridgeError, ValidationError


class JobError(LeadBridgeError):
    """Root of the job errors."""

    code = "JOB_ERROR"


class RetriableJobError(JobError):
    """The job failed for a reason that may pass; the queue runs it again later."""

    code = "JOB_RETRIABLE"


class FatalJobError(JobError):
    """The job failed for a reason that running it again will not fix."""

    code = "JOB_FATAL"


class JobInterruptedError(RetriableJobError):
    """The worker is stopping: the job stopped after its current page and is queued again."""

    code = "JOB_INTERRUPTED"


class QueueUnavailableError(JobError, ConfigurationError):
    """Jobs are queued only on PostgreSQL."""

    code = "QUEUE_UNAVAILABLE"


class InvalidScheduleError(JobError, ValidationError):
    """A schedule that cannot be stored; ``field`` and ``value`` name the culprit."""

    code = "INVALID_SCHEDULE"
