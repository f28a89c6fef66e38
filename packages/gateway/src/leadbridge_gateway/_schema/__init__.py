"""The GraphQL schema, one module per concern.

Each module defines its types and a ``*Query`` / ``*Mutation`` type with its root fields, every
one carrying a :class:`RequireScope` extension, and registers its node types for ``node(id:)``.
:func:`build_schema` merges them. To add a concern (segments, integrations, sync runs, points),
write ``_schema/<concern>.py`` the same way and list its root types below.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.exceptions import DuplicatedTypeName
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField
from strawberry.types.graphql import OperationType

from leadbridge.db import is_busy_database_error
from leadbridge.integrations import BaseContactData

from .._settings import GatewaySettings
from ._auth import RequireScope, required_scope
from ._executor import FastLeafExecutionContext, plain_leaves
from ._extensions import add_codes, extensions, is_unexpected
from ._relay import Node
from .contact_data import contact_fields, type_clash
from .contacts import Contact, ContactsMutation, ContactsQuery, CustomField
from .integrations import Integration, IntegrationsMutation, IntegrationsQuery, SyncRun
from .jobs import Job, JobsMutation, JobsQuery, Schedule
from .node import NodeQuery
from .points import PointAction, PointsMutation, PointsQuery
from .segments import Segment, SegmentsMutation, SegmentsQuery
from .sync import SyncMutation, SyncQuery, SyncSubscription

__all__ = ["GatewaySchema", "RequireScope", "build_schema", "required_scope"]

log = logging.getLogger("leadbridge.gateway")

QUERY_TYPES: tuple[type, ...] = (
    NodeQuery,
    ContactsQuery,
    SegmentsQuery,
    IntegrationsQuery,
    SyncQuery,
    PointsQuery,
    JobsQuery,
)
MUTATION_TYPES: tuple[type, ...] = (
    ContactsMutation,
    SegmentsMutation,
    IntegrationsMutation,
    SyncMutation,
    PointsMutation,
    JobsMutation,
)
SUBSCRIPTION_TYPES: tuple[type, ...] = (SyncSubscription,)
#: Node types reachable only through ``node(id:)`` must be listed for the schema to know them.
NODE_TYPES: tuple[type, ...] = (
    Contact,
    CustomField,
    Segment,
    Integration,
    SyncRun,
    PointAction,
    Schedule,
    Job,
)


class GatewaySchema(strawberry.Schema):
    """Strawberry's schema, with the fields plugins add to ``Contact`` (``contact_fields``)."""

    def __init__(
        self, *args: Any, contact_fields: Sequence[StrawberryField] = (), **kwargs: Any
    ) -> None:
        # Set before the base class converts the types: it calls get_fields as it goes.
        self._contact_fields = list(contact_fields)
        super().__init__(*args, **kwargs)

    def get_fields(self, type_definition: StrawberryObjectDefinition) -> list[StrawberryField]:
        fields = super().get_fields(type_definition)
        if type_definition.origin is Contact and self._contact_fields:
            return [*fields, *self._contact_fields]
        return fields

    async def execute(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        # Subscriptions stream over websockets only: over HTTP they are a 400, not a crash.
        allowed = kwargs.get("allowed_operation_types") or {
            OperationType.QUERY,
            OperationType.MUTATION,
        }
        kwargs["allowed_operation_types"] = set(allowed) - {OperationType.SUBSCRIPTION}
        result = await super().execute(*args, **kwargs)
        # Here rather than in an extension: a parse error raised by the parser cache leaves
        # the operation before extensions see the result.
        add_codes(result.errors)
        return result

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Unexpected errors are logged with their traceback (the client sees a masked error);
        # the others are the caller's mistakes and only worth a debug line.
        for error in errors:
            if is_busy_database_error(error.original_error):
                log.warning(
                    "database busy while resolving %s (%s); the client is told to retry",
                    ".".join(str(p) for p in error.path or ()),
                    type(error.original_error).__name__,
                )
            elif is_unexpected(error):
                log.error(
                    "error resolving %s",
                    ".".join(str(p) for p in error.path or ()),
                    exc_info=error.original_error,
                )
            else:
                log.debug("GraphQL error: %s", error.message)


def build_schema(
    settings: GatewaySettings | None = None, contact_data: Sequence[BaseContactData] = ()
) -> GatewaySchema:
    """The schema; ``contact_data`` (core's ``contact_data``) adds fields to ``Contact``.

    A contact data name or type name that clashes with the schema's own is a
    :class:`ConfigurationError`.
    """
    settings = settings or GatewaySettings()
    query: Any = merge_types("Query", QUERY_TYPES)
    mutation: Any = merge_types("Mutation", MUTATION_TYPES)
    subscription: Any = merge_types("Subscription", SUBSCRIPTION_TYPES)
    # A subclass per schema: it carries the schema's own table of plain leaf fields.
    executor: type[FastLeafExecutionContext] = type(
        "GatewayExecutionContext", (FastLeafExecutionContext,), {}
    )
    try:
        schema = GatewaySchema(
            query=query,
            mutation=mutation,
            subscription=subscription,
            types=[Node, *NODE_TYPES],
            extensions=extensions(settings),
            # Hints name fields: only where anyone may read the schema anyway.
            config=StrawberryConfig(
                disable_field_suggestions=not (
                    settings.introspection and settings.anonymous_introspection
                )
            ),
            execution_context_class=executor,
            contact_fields=contact_fields(contact_data),
        )
    except DuplicatedTypeName as exc:
        raise type_clash(exc) from exc
    executor.leaves = plain_leaves(schema._schema, _python_names(schema))
    return schema


def _python_names(schema: GatewaySchema) -> dict[tuple[str, str], str]:
    names: dict[tuple[str, str], str] = {}
    converter = schema.config.name_converter
    for graphql_type in schema._schema.type_map.values():
        definition = getattr(graphql_type, "extensions", {}).get("strawberry-definition")
        if isinstance(definition, StrawberryObjectDefinition):
            for field in definition.fields:
                names[(graphql_type.name, converter.get_graphql_name(field))] = field.python_name
    return names
