"""Schema extensions: error masking and codes, query limits, caches."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from graphql import BREAK, DocumentNode, FieldNode, GraphQLError, Visitor, visit
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule

from leadbridge.db import is_busy_database_error

from .._context import GatewayContext
from .._database_busy import BUSY_MESSAGE, RETRY_AFTER_SECONDS
from .._errors import QueryTooComplexError, ServiceUnavailableError, UnauthenticatedError
from .._settings import GatewaySettings
from ._cost import count_nodes
from ._input_guard import InputGuard
from ._metrics import OperationMetrics

log = logging.getLogger("leadbridge.gateway")

INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


def is_unexpected(error: GraphQLError) -> bool:
    """A resolver crashed: an exception that is not one of the errors we raise on purpose.

    Errors without a path come from parsing, validation or variable coercion: they are about
    the request and shown as they are.
    """
    original = error.original_error
    return (
        error.path is not None and original is not None and not isinstance(original, GraphQLError)
    )


def _code(error: GraphQLError) -> str:
    """The code of an error raised without one (by graphql-core or Strawberry)."""
    if error.message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if error.path is None and not error.message.startswith("Variable '$"):
        return "GRAPHQL_VALIDATION_FAILED"
    return "BAD_USER_INPUT"


def code_of(error: GraphQLError) -> str:
    """The ``extensions.code`` an error has or will be given."""
    code = (error.extensions or {}).get("code")
    return str(code) if code is not None else _code(error)


def add_codes(errors: list[GraphQLError] | None) -> None:
    """Give every error an ``extensions.code`` (ours carry theirs already)."""
    for error in errors or ():
        if not error.extensions or "code" not in error.extensions:
            error.extensions = {**(error.extensions or {}), "code": _code(error)}


class ErrorPolicy(MaskErrors):
    """Mask unexpected errors as ``INTERNAL_SERVER_ERROR``; details go to the log only."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected, error_message="Internal server error")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        if is_busy_database_error(error.original_error):
            # Not a fault: the same request succeeds once the database is free.
            masked.message = BUSY_MESSAGE
            busy = ServiceUnavailableError(BUSY_MESSAGE, RETRY_AFTER_SECONDS)
            masked.extensions = busy.extensions
            context = self.execution_context.context
            if isinstance(context, GatewayContext):
                context.retry_after = RETRY_AFTER_SECONDS
            return masked
        masked.extensions = {"code": INTERNAL_SERVER_ERROR}
        return masked


class NodeLimit(SchemaExtension):
    """Refuse, before running it, a query that could return more than ``max_nodes`` nodes."""

    def __init__(self, max_nodes: int) -> None:
        self.max_nodes = max_nodes

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.graphql_document is not None:
            total, path = count_nodes(
                ctx.schema._schema, ctx.graphql_document, ctx.operation_name, ctx.variables
            )
            if total > self.max_nodes:
                error = QueryTooComplexError(
                    f"this query could return up to {total:,} nodes, more than the "
                    f"{self.max_nodes:,} allowed (largest: {' x '.join(path)}); "
                    "ask for fewer with `first` on nested connections"
                )
                ctx.result = GraphQLExecutionResult(data=None, errors=[error])
        yield


_INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})


def _introspects(document: DocumentNode) -> bool:
    """Whether the document asks for the schema (``__typename`` alone does not)."""
    found = False

    class Finder(Visitor):
        def enter_field(self, node: FieldNode, *_args: Any) -> Any:
            nonlocal found
            if node.name.value in _INTROSPECTION_FIELDS:
                found = True
                return BREAK
            return None

    visit(document, Finder())
    return found


class IntrospectionForCallers(SchemaExtension):
    """Answer introspection to callers with a valid API token only.

    Anonymous callers learn nothing of the schema beyond what they send: their introspection
    query is refused ``UNAUTHENTICATED`` before it runs.
    """

    async def on_execute(self) -> AsyncIterator[None]:
        ctx = self.execution_context
        context = ctx.context
        if (
            ctx.graphql_document is not None
            and isinstance(context, GatewayContext)
            and _introspects(ctx.graphql_document)
        ):
            try:
                await context.token()
            except UnauthenticatedError as exc:
                refused = UnauthenticatedError(f"introspection needs an API token: {exc.message}")
                ctx.result = GraphQLExecutionResult(data=None, errors=[refused])
        yield


def extensions(settings: GatewaySettings) -> list[Callable[[], SchemaExtension]]:
    """Extension factories (a fresh instance per operation, shared rule classes and caches)."""
    # Rule classes are built once: the validation cache keys on them.
    rules: list[type[ASTValidationRule]] = [
        depth_rule(settings.max_depth, None),
        alias_rule(settings.max_aliases),
    ]
    if not settings.introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    size = settings.cache_size
    gate: list[Callable[[], SchemaExtension]] = []
    if settings.introspection and not settings.anonymous_introspection:
        gate.append(IntrospectionForCallers)
    return [
        OperationMetrics,
        ErrorPolicy,
        InputGuard,
        *gate,
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: ParserCache(maxsize=size),
        lambda: AddValidationRules(rules),
        lambda: ValidationCache(maxsize=size),
        lambda: NodeLimit(settings.max_nodes),
    ]
