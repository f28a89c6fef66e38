"""A faster path through graphql-core for plain leaf fields.

A page of 100 contacts is about a thousand fields, most of them plain attributes with a scalar
value (``email``, ``cursor``, ``points``). For each, graphql-core builds a resolve-info object,
reads arguments, calls Strawberry's default resolver and walks ``complete_value``. For a field
that has no resolver, no arguments and a scalar or enum type, this execution context reads the
attribute and coerces it directly. Anything else, and any value that would raise (a null in a
non-null field, a value the scalar refuses), takes graphql-core's own path, so results and
errors are the same; ``tests/gateway`` checks the documents field by field.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    Undefined,
    is_leaf_type,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

#: field definition -> (attribute name, leaf type, non-null)
Leaves = dict[int, tuple[str, GraphQLLeafType, bool]]


def plain_leaves(schema: GraphQLSchema, python_names: dict[tuple[str, str], str]) -> Leaves:
    """The fields that qualify: Strawberry's default resolver, no arguments, a leaf type."""
    leaves: Leaves = {}
    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for name, field in type_.fields.items():
            if field.args or not getattr(field.resolve, "_is_default", False):
                continue
            target = field.type
            non_null = isinstance(target, GraphQLNonNull)
            if non_null:
                target = target.of_type
            attr = python_names.get((type_.name, name))
            if attr is not None and is_leaf_type(target):
                leaves[id(field)] = (attr, target, non_null)
    return leaves


class FastLeafExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context with the fast path above (``leaves`` set per schema)."""

    leaves: Leaves = {}

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Any,
        position_context: Any,
    ) -> Any:
        node = field_details_list[0].node
        field: GraphQLField | None = parent_type.fields.get(node.name.value)
        plain = self.leaves.get(id(field)) if field is not None else None
        if plain is not None and not node.arguments and not self._has_middleware():
            attr, leaf, non_null = plain
            value = getattr(source, attr, Undefined)
            if value is not None and value is not Undefined:
                try:
                    coerced = leaf.coerce_output_value(value)
                except Exception:  # let graphql-core report it the way it does
                    coerced = None
                if coerced is not None and coerced is not Undefined:
                    return coerced
            elif not non_null and value is None:
                return None
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    def _has_middleware(self) -> bool:
        manager = self.middleware_manager
        return manager is not None and bool(getattr(manager, "middlewares", ()))
