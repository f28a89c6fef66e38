"""One sync against the fake Livestorm, traced: run → object → page → SQL, and the HTTP calls."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from leadbridge.container import CoreContainer
from leadbridge.observability import tracing_requested
from leadbridge.sync import SyncStatus
from leadbridge_livestorm.testing import FakeLivestorm
from tests._tracing import in_memory_spans
from tests.livestorm.test_sync import configure


@pytest.fixture
def spans(container: CoreContainer) -> Iterator[InMemorySpanExporter]:
    exporter = in_memory_spans()  # the process's provider, another test's or a new one
    HTTPXClientInstrumentor().instrument()
    sql = SQLAlchemyInstrumentor()
    # The instrumentation declares SQLAlchemy < 2.1; its event hooks work with 2.1 too.
    sql.instrument(engine=container.engine().sync_engine, skip_dep_check=True)
    try:
        yield exporter
    finally:
        HTTPXClientInstrumentor().uninstrument()
        sql.uninstrument()
        exporter.clear()


def _ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[str]:
    names = []
    parent = span.parent
    while parent is not None and parent.span_id in by_id:
        above = by_id[parent.span_id]
        names.append(above.name)
        parent = above.parent
    return names


async def test_a_sync_run_is_one_span_tree(
    container: CoreContainer, small_fake: FakeLivestorm, spans: InMemorySpanExporter
) -> None:
    await configure(container, small_fake)
    result = await container.sync_service().start("livestorm")
    assert result.status == SyncStatus.SUCCEEDED, result.error
    finished = spans.get_finished_spans()
    by_id = {s.context.span_id: s for s in finished}
    runs = [s for s in finished if s.name == "leadbridge.sync.run"]
    assert len(runs) == 1
    run = runs[0]
    assert run.attributes is not None
    assert run.attributes["leadbridge.integration"] == "livestorm"
    assert run.attributes["leadbridge.run_id"] == result.run_id
    assert run.attributes["leadbridge.status"] == "succeeded"
    trace_id = run.context.trace_id

    pages = [s for s in finished if s.name == "leadbridge.sync.page"]
    assert pages and all(_ancestors(p, by_id)[-1] == run.name for p in pages)
    assert all("leadbridge.sync.pull" in _ancestors(p, by_id) for p in pages)
    # Every remote call of the run (httpx's spans) belongs to the run's trace.
    calls = [s for s in finished if s.attributes and "http.request.method" in s.attributes]
    calls = calls or [s for s in finished if s.attributes and "http.method" in s.attributes]
    assert len(calls) >= result.counters.api_calls > 0
    assert all(c.context.trace_id == trace_id and run.name in _ancestors(c, by_id) for c in calls)
    # The page's connection and SQL statements are its children.
    page_ids = {p.context.span_id for p in pages}
    sql = [s for s in finished if s.parent is not None and s.parent.span_id in page_ids]
    assert sql and all(s.attributes and s.attributes.get("db.system") for s in sql)
    assert {"INSERT", "UPDATE"} <= {s.name.split()[0] for s in sql}  # "INSERT <db name>"


def test_traces_are_off_unless_otel_variables_ask() -> None:
    assert not tracing_requested({})
    assert tracing_requested({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"})
    assert not tracing_requested(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "true"}
    )
