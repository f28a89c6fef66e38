"""The static cost check: how many nodes could a query return, GitHub-style.

Every connection field counts ``first`` nodes for each node of the connections around it:
``contacts(first: 100) { edges { node { pointHistory(first: 50) … } } }`` can return
100 + 100 x 50 = 5,100 nodes. ``nodes(ids:)`` counts one per ID. Directives are ignored (the
bound is an upper bound). Fragments are followed; a fragment cycle is a validation error of
its own, so a fragment is entered once per path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)

from ._relay import DEFAULT_PAGE, MAX_PAGE, MIN_PAGE


class _Walk:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        defaults: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.defaults = defaults
        self.worst: list[str] = []
        self.worst_nodes = 0

    def _int(self, node: Any, fallback: int) -> int:
        if isinstance(node, IntValueNode):
            return int(node.value)
        if isinstance(node, VariableNode):
            value = self.variables.get(node.name.value, self.defaults.get(node.name.value))
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        return fallback

    def _size(self, field: FieldNode, definition: GraphQLField) -> int | None:
        """How many nodes the field returns per parent, if it is a paged or ID-list field."""
        args = {a.name.value: a.value for a in field.arguments or ()}
        named = get_named_type(definition.type)
        if "first" in definition.args and named.name.endswith("Connection"):
            default = definition.args["first"].default_value
            fallback = default if isinstance(default, int) else DEFAULT_PAGE
            first = self._int(args["first"], fallback) if "first" in args else fallback
            # Out-of-range values are refused by the field itself, with their own message.
            return min(max(first, MIN_PAGE), MAX_PAGE)
        if "ids" in definition.args and "ids" in args:
            value = args["ids"]
            if isinstance(value, ListValueNode):
                return len(value.values)
            if isinstance(value, VariableNode):
                given = self.variables.get(value.name.value)
                return len(given) if isinstance(given, list) else MAX_PAGE
        return None

    def selection(
        self,
        selection_set: SelectionSetNode | None,
        parent: GraphQLNamedType,
        multiplier: int,
        path: list[str],
        entered: frozenset[str],
    ) -> int:
        if selection_set is None:
            return 0
        total = 0
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                total += self.field(sel, parent, multiplier, path, entered)
            elif isinstance(sel, InlineFragmentNode):
                target = (
                    self.schema.get_type(sel.type_condition.name.value)
                    if sel.type_condition
                    else parent
                )
                total += self.selection(
                    sel.selection_set, target or parent, multiplier, path, entered
                )
            elif isinstance(sel, FragmentSpreadNode):
                name = sel.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in entered:
                    continue
                target = self.schema.get_type(fragment.type_condition.name.value)
                total += self.selection(
                    fragment.selection_set, target or parent, multiplier, path, entered | {name}
                )
        return total

    def field(
        self,
        sel: FieldNode,
        parent: GraphQLNamedType,
        multiplier: int,
        path: list[str],
        entered: frozenset[str],
    ) -> int:
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 0
        definition = parent.fields.get(sel.name.value)
        if definition is None:
            return 0
        size = self._size(sel, definition)
        own = 0
        if size is not None:
            multiplier *= size
            own = multiplier
            path = [*path, f"{sel.name.value}: {size}"]
            if multiplier > self.worst_nodes:
                self.worst_nodes, self.worst = multiplier, path
        return own + self.selection(
            sel.selection_set, get_named_type(definition.type), multiplier, path, entered
        )


def count_nodes(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> tuple[int, list[str]]:
    """The most nodes the operation could return, and the most multiplied path."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1:
        return 0, []  # graphql-core reports a missing or ambiguous operation itself
    operation = operations[0]
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0, []
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    defaults = {
        v.variable.name.value: int(v.default_value.value)
        for v in operation.variable_definitions or ()
        if isinstance(v.default_value, IntValueNode)
    }
    walk = _Walk(schema, fragments, variables or {}, defaults)
    total = walk.selection(operation.selection_set, root, 1, [], frozenset())
    return total, walk.worst
