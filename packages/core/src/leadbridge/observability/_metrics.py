"""The metrics LeadBridge records, and the few calls that record them.

Names follow Prometheus conventions (``leadbridge_…_total`` for counters, ``_seconds`` for
durations and timestamps); every label has a bounded set of values (integration names, final
statuses, HTTP methods and status codes, GraphQL operation types and error codes, job kinds),
never an email, a run id or a job id. The metrics live in prometheus-client's default
registry, so they work in one process and, with ``PROMETHEUS_MULTIPROC_DIR`` set, across
several (see :func:`render_metrics`).
"""

from __future__ import annotations

import time
from enum import StrEnum
from typing import TYPE_CHECKING

from prometheus_client import Counter, Gauge, Histogram

from ._context import current_integration

if TYPE_CHECKING:
    from ..sync import SyncResult

#: Run durations range from a second (nothing new) to hours (a first sync of a big account).
_RUN_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, float("inf"))
#: GraphQL operations range from a millisecond to a few seconds.
_GRAPHQL_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, float("inf"))

SYNC_RUNS = Counter(
    "leadbridge_sync_runs_total",
    "Sync runs that ended, by integration and final status.",
    ["integration", "status"],
)
SYNC_RUN_DURATION = Histogram(
    "leadbridge_sync_run_duration_seconds",
    "How long sync runs took, by integration.",
    ["integration"],
    buckets=_RUN_BUCKETS,
)
SYNC_OBJECTS = Counter(
    "leadbridge_sync_objects_total",
    "Objects handled by sync runs, by integration and outcome "
    "(pulled, pushed, created, updated, unchanged, skipped, failed, conflicts).",
    ["integration", "outcome"],
)
SYNC_LAST_SUCCESS = Gauge(
    "leadbridge_sync_last_success_timestamp_seconds",
    "Unix time the last sync run that succeeded (or was partial) ended, by integration.",
    ["integration"],
    multiprocess_mode="max",
)
API_CALLS = Counter(
    "leadbridge_remote_api_calls_total",
    "Requests sent to remote APIs (retries included), by integration, method and status code "
    "(`error`: no response).",
    ["integration", "method", "status_code"],
)
API_RETRIES = Counter(
    "leadbridge_remote_api_retries_total",
    "Requests sent again after a failure or a 429, by integration.",
    ["integration"],
)
API_RATE_LIMITED = Counter(
    "leadbridge_remote_api_rate_limited_total",
    "429 Too Many Requests answers from remote APIs, by integration.",
    ["integration"],
)
API_QUOTA_REMAINING = Gauge(
    "leadbridge_remote_api_quota_remaining",
    "Calls left in a remote API's quota as its last answer said, by integration and window.",
    ["integration", "window"],
    multiprocess_mode="mostrecent",
)
API_QUOTA_LIMIT = Gauge(
    "leadbridge_remote_api_quota_limit",
    "A remote API's quota as its last answer said, by integration and window.",
    ["integration", "window"],
    multiprocess_mode="mostrecent",
)
GRAPHQL_DURATION = Histogram(
    "leadbridge_graphql_request_duration_seconds",
    "GraphQL operations, by operation type (query, mutation, subscription, unknown).",
    ["operation_type"],
    buckets=_GRAPHQL_BUCKETS,
)
GRAPHQL_ERRORS = Counter(
    "leadbridge_graphql_errors_total",
    "Errors in GraphQL responses, by extensions.code.",
    ["code"],
)
GRAPHQL_REJECTED = Counter(
    "leadbridge_graphql_rejected_total",
    "GraphQL operations refused before running, by the limit they broke "
    "(depth, aliases, cost, tokens).",
    ["limit"],
)

JOBS_FAILED = Counter(
    "leadbridge_jobs_failed_total",
    "Jobs that failed for good (no retry left, or a fatal error), by kind.",
    ["kind"],
)
JOBS_RETRIED = Counter(
    "leadbridge_jobs_retried_total",
    "Jobs that failed and were queued again to retry after a backoff, by kind.",
    ["kind"],
)

#: The counters of a run, as :class:`~leadbridge.sync.SyncCounters` names them.
_OBJECT_OUTCOMES = (
    "pulled",
    "pushed",
    "created",
    "updated",
    "unchanged",
    "skipped",
    "failed",
    "conflicts",
)
#: Final statuses after which the integration counts as synced.
_SYNCED = frozenset({"succeeded", "partial"})


class QueryLimit(StrEnum):
    """The GraphQL limits that refuse an operation before it runs."""

    DEPTH = "depth"
    ALIASES = "aliases"
    COST = "cost"
    TOKENS = "tokens"


def record_sync_run(result: SyncResult) -> None:
    """Record a run that ended (dry runs are not recorded: they changed nothing)."""
    if result.dry_run:
        return
    integration = result.integration
    SYNC_RUNS.labels(integration, result.status.value).inc()
    if result.started_at is not None and result.finished_at is not None:
        seconds = (result.finished_at - result.started_at).total_seconds()
        SYNC_RUN_DURATION.labels(integration).observe(max(seconds, 0.0))
    counters = result.counters.to_dict()
    for outcome in _OBJECT_OUTCOMES:
        SYNC_OBJECTS.labels(integration, outcome).inc(counters.get(outcome, 0))
    if result.status.value in _SYNCED:
        finished = result.finished_at.timestamp() if result.finished_at else time.time()
        SYNC_LAST_SUCCESS.labels(integration).set(finished)


def record_api_call(method: str, status_code: int | None) -> None:
    """One request reached the wire (``status_code`` ``None``: it got no response)."""
    integration = current_integration()
    code = "error" if status_code is None else str(status_code)
    API_CALLS.labels(integration, method.upper(), code).inc()
    if status_code == 429:
        API_RATE_LIMITED.labels(integration).inc()


def record_api_retry() -> None:
    """A request is about to be sent again."""
    API_RETRIES.labels(current_integration()).inc()


def record_quota(integration: str, window: str, remaining: int | None, limit: int | None) -> None:
    """What a remote API said about its quota (``None``: it did not say)."""
    if remaining is not None:
        API_QUOTA_REMAINING.labels(integration, window).set(remaining)
    if limit is not None:
        API_QUOTA_LIMIT.labels(integration, window).set(limit)


def record_graphql_operation(operation_type: str, seconds: float, codes: list[str]) -> None:
    """One GraphQL operation ended after ``seconds`` with errors of ``codes``."""
    GRAPHQL_DURATION.labels(operation_type).observe(seconds)
    for code in codes:
        GRAPHQL_ERRORS.labels(code).inc()


def record_job_failed(kind: str) -> None:
    """A job of ``kind`` failed and will not run again by itself."""
    JOBS_FAILED.labels(kind).inc()


def record_job_retried(kind: str) -> None:
    """A job of ``kind`` failed and is queued again."""
    JOBS_RETRIED.labels(kind).inc()


def record_query_rejected(limit: QueryLimit) -> None:
    """An operation was refused for breaking ``limit``."""
    GRAPHQL_REJECTED.labels(limit.value).inc()
