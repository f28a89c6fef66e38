"""Input every database can store, checked once for the whole request before it runs.

PostgreSQL refuses NUL characters in text (SQLite stores them, and a ``LIKE`` on one matches
everything), and 64-bit columns refuse larger integers: the same input must fail the same
way on both, as the caller's mistake and before any statement runs. Every value a request
brings arrives either as a literal in the document or as a variable; both are checked here.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from graphql import (
    BREAK,
    DocumentNode,
    FloatValueNode,
    GraphQLError,
    IntValueNode,
    StringValueNode,
    Visitor,
    visit,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension

from .._errors import BadUserInputError
from .._json_depth import MAX_JSON_DEPTH

MIN_INT64 = -(2**63)
MAX_INT64 = 2**63 - 1

_NUL = "\x00"
_NUL_REFUSED = "text may not contain NUL characters (U+0000)"


def _number_problem(value: int | float) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and not MIN_INT64 <= value <= MAX_INT64:
        return f"the integer {value} is outside the 64-bit range"
    if isinstance(value, float) and not math.isfinite(value):
        return f"the number {value} is not finite"
    return None


def variable_problems(variables: dict[str, Any]) -> Iterator[str]:
    """What is wrong with the request's variables, one message per bad value."""
    # Iterative: a value may nest as deep as the body allows.
    pending: list[tuple[str, Any, int]] = [(f"${name}", v, 1) for name, v in variables.items()]
    while pending:
        path, value, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            yield f"`{path}`: nests deeper than {MAX_JSON_DEPTH} levels"
        elif isinstance(value, str):
            if _NUL in value:
                yield f"`{path}`: {_NUL_REFUSED}"
        elif isinstance(value, int | float):
            if (problem := _number_problem(value)) is not None:
                yield f"`{path}`: {problem}"
        elif isinstance(value, dict):
            for key, item in value.items():
                if _NUL in str(key):
                    yield f"`{path}`: a key: {_NUL_REFUSED}"
                else:
                    pending.append((f"{path}.{key}", item, depth + 1))
        elif isinstance(value, list):
            pending.extend((f"{path}[{i}]", item, depth + 1) for i, item in enumerate(value))


def literal_problem(document: DocumentNode) -> str | None:
    """What is wrong with the first bad literal of the document, if any."""
    found: list[str] = []

    class Finder(Visitor):
        def enter_string_value(self, node: StringValueNode, *_args: Any) -> Any:
            if _NUL in node.value:
                found.append(f"a string in the query: {_NUL_REFUSED}")
                return BREAK
            return None

        def enter_int_value(self, node: IntValueNode, *_args: Any) -> Any:
            return self._number(int(node.value))

        def enter_float_value(self, node: FloatValueNode, *_args: Any) -> Any:
            return self._number(float(node.value))

        def _number(self, value: float) -> Any:
            if (problem := _number_problem(value)) is not None:
                found.append(f"a number in the query: {problem}")
                return BREAK
            return None

    visit(document, Finder())
    return found[0] if found else None


class InputGuard(SchemaExtension):
    """Refuse, before running it, an operation whose input a database would choke on."""

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        problems = list(variable_problems(ctx.variables or {}))
        if ctx.graphql_document is not None and (literal := literal_problem(ctx.graphql_document)):
            problems.append(literal)
        if problems:
            errors: list[GraphQLError] = [BadUserInputError(p) for p in sorted(problems)[:10]]
            ctx.result = GraphQLExecutionResult(data=None, errors=errors)
        yield
