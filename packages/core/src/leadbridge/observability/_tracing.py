"""OpenTelemetry spans for sync runs, when the optional ``otel`` extra is installed.

Without ``opentelemetry-api`` every call here does nothing. With it but without a configured
SDK the API's own no-op tracer answers: spans cost next to nothing until
:func:`configure_tracing` (or the application) installs a tracer provider.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import TracebackType
from typing import Any

try:
    from opentelemetry import context as otel_context
    from opentelemetry import trace
except ImportError:  # the otel extra is not installed
    trace = None  # type: ignore[assignment]
    otel_context = None  # type: ignore[assignment]

from .._errors import ConfigurationError
from ._context import bind_log_context, reset_log_context

_TRACER = "leadbridge"
#: Any of these set turns tracing on in :func:`configure_tracing` (OTEL_SDK_DISABLED wins).
_EXPORT_VARIABLES = (
    "OTEL_TRACES_EXPORTER",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
)


def _attributes(values: Mapping[str, Any]) -> dict[str, Any]:
    return {f"leadbridge.{k}": v for k, v in values.items() if v is not None}


class traced:
    """A span made current for a ``with`` or ``async with`` block (nothing without otel)."""

    __slots__ = ("_attributes", "_name", "_span", "_token")

    def __init__(self, name: str, **attributes: Any) -> None:
        self._name = name
        self._attributes = attributes
        self._span: Any = None
        self._token: Any = None

    def __enter__(self) -> traced:
        if trace is not None:
            tracer = trace.get_tracer(_TRACER)
            self._span = tracer.start_span(self._name, attributes=_attributes(self._attributes))
            self._token = otel_context.attach(trace.set_span_in_context(self._span))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._span is None:
            return
        if exc is not None:
            self._span.record_exception(exc)
            self._span.set_status(trace.Status(trace.StatusCode.ERROR, type(exc).__name__))
        otel_context.detach(self._token)
        self._span.end()

    def rename(self, name: str) -> None:
        """Name the span anew (what it covers became known while it ran)."""
        if self._span is not None:
            self._span.update_name(name)

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        """Add attributes named as given (OpenTelemetry's semantic conventions: say,
        ``graphql.operation.type``); ``None`` values are left out."""
        if self._span is not None:
            self._span.set_attributes({k: v for k, v in attributes.items() if v is not None})

    def fail(self, description: str) -> None:
        """Mark the span failed without an exception (an error the response carries)."""
        if self._span is not None:
            self._span.set_status(trace.Status(trace.StatusCode.ERROR, description))

    async def __aenter__(self) -> traced:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)


class RunScope:
    """What a sync run binds while it runs: its log context and its span."""

    def __init__(self, integration: str, run_id: int | None) -> None:
        self._log = bind_log_context(integration=integration, run_id=run_id)
        self._span = traced("leadbridge.sync.run", integration=integration, run_id=run_id)
        self._span.__enter__()

    def close(self, status: str) -> None:
        span = self._span._span
        if span is not None:
            span.set_attribute("leadbridge.status", status)
        self._span.__exit__(None, None, None)
        reset_log_context(self._log)


def tracing_active() -> bool:
    """Whether spans are recorded: a tracer provider is installed (by
    :func:`configure_tracing` or by the application), not the API's no-op default."""
    if trace is None:
        return False
    provider = trace.get_tracer_provider()
    return not isinstance(provider, (trace.ProxyTracerProvider, trace.NoOpTracerProvider))


def tracing_requested(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the ``OTEL_*`` variables ask for traces."""
    env = os.environ if environ is None else environ
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return any(env.get(name, "").strip() for name in _EXPORT_VARIABLES)


def configure_tracing(engine: Any = None, environ: Mapping[str, str] | None = None) -> bool:
    """Turn traces on when the ``OTEL_*`` variables ask for them; returns whether it did.

    Installs an SDK tracer provider exporting over OTLP (the exporter reads its own
    ``OTEL_EXPORTER_OTLP_*`` variables; the service name comes from ``OTEL_SERVICE_NAME``),
    and the maintained httpx and SQLAlchemy instrumentations (``engine``: an ``AsyncEngine``
    whose statements become spans). Needs ``leadbridge-core[otel]``.
    """
    if not tracing_requested(environ):
        return False
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        raise ConfigurationError(
            "OTEL_* variables ask for traces but the otel extra is not installed: "
            "pip install 'leadbridge-core[otel]'"
        ) from exc

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    HTTPXClientInstrumentor().instrument()
    if engine is not None:
        # It declares SQLAlchemy < 2.1; the event hooks it uses are the same in 2.1.
        SQLAlchemyInstrumentor().instrument(engine=engine.sync_engine, skip_dep_check=True)
    return True
