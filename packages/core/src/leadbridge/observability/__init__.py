"""Metrics, structured logs and their context, for operators.

- Metrics (prometheus-client): the ``leadbridge_*`` metrics and the ``record_*`` calls the
  sync engine, the HTTP transport and the gateway make; :func:`render_metrics` gives the text
  a scrape reads (``PROMETHEUS_MULTIPROC_DIR`` merges several processes);
  :class:`DatabasePoolCollector` adds a pool's gauges. A process that serves metrics of its
  own (a worker's ``--metrics-port``) answers ``GET /metrics`` with :func:`render_metrics`.
- Logs: :func:`configure_logging` with ``LEADBRIDGE_LOG_FORMAT=json`` prints one JSON object
  per line (:class:`JsonLogFormatter`), carrying what :func:`bind_log_context` bound:
  integration, run id, job id, request id.
- Traces (the ``otel`` extra): :func:`configure_tracing` turns OpenTelemetry on when the
  ``OTEL_*`` variables ask; sync runs, their objects and pages are spans (:func:`traced`).
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
    SYNC_LAST_SUCCESS,
    SYNC_OBJECTS,
    SYNC_RUN_DURATION,
    SYNC_RUNS,
    QueryLimit,
    record_api_call,
    record_api_retry,
    record_graphql_operation,
    record_query_rejected,
    record_quota,
    record_sync_run,
)
from ._pool import DatabasePoolCollector
from ._tracing import RunScope, configure_tracing, traced, tracing_requested

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
    "LOG_FORMAT_ENV",
    "METRICS_CONTENT_TYPE",
    "SYNC_LAST_SUCCESS",
    "SYNC_OBJECTS",
    "SYNC_RUNS",
    "SYNC_RUN_DURATION",
    "DatabasePoolCollector",
    "JsonLogFormatter",
    "LogFormat",
    "QueryLimit",
    "RunScope",
    "bind_log_context",
    "bound_log_context",
    "configure_logging",
    "configure_tracing",
    "current_integration",
    "log_context",
    "record_api_call",
    "record_api_retry",
    "record_graphql_operation",
    "record_query_rejected",
    "record_quota",
    "record_sync_run",
    "render_metrics",
    "reset_log_context",
    "traced",
    "tracing_requested",
]
