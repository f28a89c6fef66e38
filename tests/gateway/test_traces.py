"""Traces of the gateway: an HTTP server span per request, a GraphQL operation span inside."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from leadbridge.observability import tracing_active
from tests._tracing import in_memory_spans

from .conftest import GQL


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Requested before ``client``: the app is created once tracing is on."""
    exporter = in_memory_spans()
    assert tracing_active()
    yield exporter
    exporter.clear()


def _by_name(finished: tuple[ReadableSpan, ...], name: str) -> ReadableSpan:
    [span] = [s for s in finished if s.name == name]
    return span


async def test_a_graphql_operation_is_a_span_inside_the_http_request_span(
    spans: InMemorySpanExporter, client: httpx.AsyncClient, token: str
) -> None:
    gql = GQL(client, token)
    await gql.data("query Count { contacts(first: 1) { totalCount } }")
    doc = await gql("query Broken { contacts(first: 1) { nope } }")
    assert doc["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    await client.get("/healthz")  # probes make no spans

    finished = spans.get_finished_spans()
    operation = _by_name(finished, "query Count")
    assert operation.attributes is not None
    assert operation.attributes["graphql.operation.type"] == "query"
    assert operation.attributes["graphql.operation.name"] == "Count"
    assert operation.status.status_code is StatusCode.UNSET
    assert "contacts" not in str(dict(operation.attributes))  # the document stays out
    parent = operation.parent
    assert parent is not None
    [server] = [s for s in finished if s.context.span_id == parent.span_id]
    assert server.kind is SpanKind.SERVER and server.name == "POST /graphql"
    assert server.context.trace_id == operation.context.trace_id

    broken = _by_name(finished, "query Broken")
    assert broken.status.status_code is StatusCode.ERROR
    assert broken.attributes is not None
    assert broken.attributes["leadbridge.graphql.error_codes"] == ("GRAPHQL_VALIDATION_FAILED",)
    assert not [s for s in finished if "healthz" in s.name]
