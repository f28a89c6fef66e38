"""Metrics, structured logs and their context, for operators.

- Metrics (prometheus-client): the ``leadbridge_*`` metrics and the ``record_*`` calls the
  sync engine, the HTTP transport and the gateway make; :func:`render_metrics` gives the text
  a scrape reads (``PROMETHEUS_MULTIPROC_DIR`` merges several processes);
  :class:`DatabasePoolCollector` adds a pool's gauges, :class:`JobQueueCollector` the job
  queue's (what :func:`read_job_queue` read, within a timeout). A process without a web server
  (``leadbridge worker --metrics-port``) serves them with :class:`MetricsServer`.
- Logs: :func:`configure_logging` with ``LEADBRIDGE_LOG_FORMAT=json`` prints one JSON object
  per line (:class:`JsonLogFormatter`), carrying what :func:`bind_log_context` bound:
  integration, run id, job id, request id.
- Traces (the ``otel`` extra): :func:`configure_tracing` turns OpenTelemetry on when the
  ``OTEL_*`` variables ask; sync runs, their objects and pages are spans (:func:`traced`);
  :func:`tracing_active` says whether a tracer provider records them.
"""

from ._context import (
    CONTEXT_KEYS,
    bind_log_context,
    bound_log_context,
    current_integration,
    log_context,
    reset_log_context,
)
from ._exposition import METRICS_CONTENT_TYPE, render_metrics
from ._jobs import JOB_QUEUE_READ_TIMEOUT, JobQueueCollector, JobQueueReader, read_job_queue
from ._logging import LOG_FORMAT_ENV, JsonLogFormatter, LogFormat, configure_logging
from ._metrics import (
    API_CALLS,
    API_QUOTA_LIMIT,
    API_QUOTA_REMAINING,
    API_RATE_LIMITED,
    API_RETRIES,
    GRAPHQL_DURATION,
    GRAPHQL_ERRORS,
    GRAPHQL_REJECTED,
    JOBS_FAILED,
    JOBS_RETRIED,
    SYNC_LAST_SUCCESS,
    SYNC_OBJECTS,
    SYNC_RUN_DURATION,
    SYNC_RUNS,
    QueryLimit,
    record_api_call,
    record_api_retry,
    record_graphql_operation,
    record_job_failed,
    record_job_retried,
    record_query_rejected,
    record_quota,
    record_sync_run,
)
from ._pool import DatabasePoolCollector
from ._server import MetricsServer
from ._tracing import RunScope, configure_tracing, traced, tracing_active, tracing_requested

__all__ = [
    "API_CALLS",
    "API_QUOTA_LIMIT",
    "API_QUOTA_REMAINING",
    "API_RATE_LIMITED",
    "API_RETRIES",
    "CONTEXT_KEYS",
    "GRAPHQL_DURATION",
    "GRAPHQL_ERRORS",
    "GRAPHQL_REJECTED",
    "JOBS_FAILED",
    "JOBS_RETRIED",
    "JOB_QUEUE_READ_TIMEOUT",
    "LOG_FORMAT_ENV",
    "METRICS_CONTENT_TYPE",
    "SYNC_LAST_SUCCESS",
    "SYNC_OBJECTS",
    "SYNC_RUNS",
    "SYNC_RUN_DURATION",
    "DatabasePoolCollector",
    "JobQueueCollector",
    "JobQueueReader",
    "JsonLogFormatter",
    "LogFormat",
    "MetricsServer",
    "QueryLimit",
    "RunScope",
    "bind_log_context",
    "bound_log_context",
    "configure_logging",
    "configure_tracing",
    "current_integration",
    "log_context",
    "read_job_queue",
    "record_api_call",
    "record_api_retry",
    "record_graphql_operation",
    "record_job_failed",
    "record_job_retried",
    "record_query_rejected",
    "record_quota",
    "record_sync_run",
    "render_metrics",
    "reset_log_context",
    "traced",
    "tracing_active",
    "tracing_requested",
]
