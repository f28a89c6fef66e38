"""A schema extension that records each operation's duration, error codes and rejections,
and traces it (a span per operation, child of the HTTP request's, when tracing is on)."""

from __future__ import annotations

import time
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from leadbridge.observability import (
    QueryLimit,
    record_graphql_operation,
    record_query_rejected,
    traced,
)

from .._errors import QueryTooComplexError
from . import _extensions  # a module: it lists this extension, so it imports us first

#: How each limit's refusal reads (graphql-core and Strawberry give them no code of their own).
_LIMIT_MESSAGES = (
    ("exceeds maximum operation depth", QueryLimit.DEPTH),
    ("aliases found. Allowed:", QueryLimit.ALIASES),
    ("Document contains more than", QueryLimit.TOKENS),
)


def _limit(error: GraphQLError, code: str) -> QueryLimit | None:
    if code == QueryTooComplexError.code:
        return QueryLimit.COST
    for fragment, limit in _LIMIT_MESSAGES:
        if fragment in error.message:
            return limit
    return None


class OperationMetrics(SchemaExtension):
    """Listed first, so it sees errors as the client will (masked, with codes)."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        with traced("graphql") as span:
            yield
            self._record(span, started)

    def _record(self, span: traced, started: float) -> None:
        ctx = self.execution_context
        result = ctx.result
        errors = (result.errors if result is not None else None) or ctx.pre_execution_errors or []
        try:
            operation_type = ctx.operation_type.value
        except RuntimeError:  # the document did not parse
            operation_type = "unknown"
        codes = []
        for error in errors:
            code = _extensions.code_of(error)
            codes.append(code)
            limit = _limit(error, code)
            if limit is not None:
                record_query_rejected(limit)
        record_graphql_operation(operation_type, time.perf_counter() - started, codes)
        # OpenTelemetry's GraphQL conventions; the document itself stays out (it may hold
        # secrets as literals).
        name = ctx.operation_name
        span.rename(f"{operation_type} {name}" if name else operation_type)
        span.set_attributes(
            {
                "graphql.operation.type": operation_type,
                "graphql.operation.name": name,
                "leadbridge.graphql.error_codes": sorted(set(codes)) or None,
            }
        )
        if codes:
            span.fail(", ".join(sorted(set(codes))))
