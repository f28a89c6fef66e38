"""Schemathesis fuzzes the running gateway: no generated operation is a server error.

A real uvicorn server on loopback, introspected with a real API token; every query and
mutation of the schema, with values for the ``JSON`` scalar drawn from JSON documents of any
shape (segment-filter-shaped ones included, numbers past 64 bits, NUL characters). The seed
and the number of examples are fixed, so a run is repeatable and bounded.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import graphql
import pytest_asyncio
import requests
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.graphql import nodes

from leadbridge import CoreContainer
from leadbridge_gateway import GatewaySettings, create_app

from .conftest import MakeToken

EXAMPLES_PER_OPERATION = 10  # about 450 requests in all: 15 s of CPU
#: Where most input reaches the database: free text, filters, custom field values.
MORE_EXAMPLES = {
    "Query.contacts": 30,
    "Query.segmentPreview": 40,
    "Mutation.createContact": 30,
    "Mutation.createSegment": 30,
    "Mutation.updateContact": 30,
}
SEED = 20261204

_FIELDS = ["email", "first_name", "points", "country", "tags", "created_at", "segment", "nope"]
# Not `regexp`: a generated pattern may backtrack for minutes on SQLite (bounded in core).
_OPERATORS = ["=", "!=", "gt", "lte", "like", "!like", "contains", "in", "between", "empty", "x"]


def _object(members: dict[str, graphql.ValueNode]) -> graphql.ValueNode:
    return nodes.Object(
        [
            graphql.ObjectFieldNode(name=graphql.NameNode(value=name), value=value)
            for name, value in members.items()
        ]
    )


_KEYS = st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_]{0,11}\Z")
# Edge values drawn often: left to chance, 20 examples an operation would rarely meet them.
_INTEGERS = st.one_of(
    st.sampled_from([2**31, 2**63 - 1, 2**63, -(2**63) - 1, 10**23]),
    st.integers(-1000, 1000),
    st.integers(),
)
_TEXTS = st.one_of(
    st.sampled_from(["\x00", "a\x00b", "%", "_", "\\", "2026-02-30", "-3 days", "é" * 300]),
    st.text(max_size=20),
)
_SCALARS: st.SearchStrategy[graphql.ValueNode] = st.one_of(
    st.just(graphql.NullValueNode()),
    st.booleans().map(nodes.Boolean),
    _INTEGERS.map(nodes.Int),
    st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float),
    _TEXTS.map(nodes.String),
)
_ANY_JSON: st.SearchStrategy[graphql.ValueNode] = st.recursive(
    _SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4).map(nodes.List),
        st.dictionaries(_KEYS, children, max_size=4).map(_object),
    ),
    max_leaves=12,
)
_FILTER = st.fixed_dictionaries(
    {
        "field": st.sampled_from(_FIELDS).map(nodes.String),
        "operator": st.sampled_from(_OPERATORS).map(nodes.String),
        "value": st.one_of(_INTEGERS.map(nodes.Int), _TEXTS.map(nodes.String), _ANY_JSON),
    },
    optional={"glue": st.sampled_from(["and", "or", "xor"]).map(nodes.String)},
).map(_object)
#: What the gateway's ``JSON`` arguments (segment filters, custom field values) receive.
JSON_VALUES = st.one_of(st.lists(_FILTER, min_size=1, max_size=3).map(nodes.List), _ANY_JSON)


@pytest_asyncio.fixture
async def live_gateway(container: CoreContainer) -> AsyncIterator[str]:
    """The gateway under uvicorn on a free loopback port; its ``/graphql`` URL."""
    app = create_app(container, GatewaySettings())
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(20):  # uvicorn has no "started" event to wait on
        while True:
            if server.started:
                break
            await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        await task


def _fuzz(url: str, secret: str) -> dict[str, int]:
    """Run the fuzzer (blocking: the server answers from the test's event loop).

    Every operation gets its own examples: spread over all of them at once, the small ones
    would take the whole budget.
    """
    schemathesis.graphql.scalar("JSON", JSON_VALUES)
    headers = {"Authorization": f"Bearer {secret}"}
    schema = schemathesis.graphql.from_url(url, headers=headers, timeout=30)
    calls: dict[str, int] = {}
    with requests.Session() as session:
        for result in schema.get_all_operations():
            operation = result.ok()
            calls[operation.label] = 0

            @seed(SEED)
            @settings(
                max_examples=MORE_EXAMPLES.get(operation.label, EXAMPLES_PER_OPERATION),
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy())
            def run(case: Any) -> None:
                calls[case.operation.label] += 1
                case.call_and_validate(
                    session=session, headers=headers, checks=[not_a_server_error], timeout=30
                )

            run()
    return calls


async def test_no_generated_operation_is_a_server_error(
    live_gateway: str, make_token: MakeToken
) -> None:
    secret = await make_token()
    calls = await asyncio.to_thread(_fuzz, live_gateway, secret)
    # Every query and mutation was tried (the subscription streams over websockets only).
    assert {"Query.contacts", "Query.segmentPreview", "Mutation.createContact"} <= set(calls)
    assert len(calls) > 30 and all(n >= 1 for n in calls.values()), calls
