from __future__ import annotations

from typing import Any

import httpx
import pytest
import strawberry
from graphql import parse

from leadbridge_gateway import GatewaySettings
from leadbridge_gateway._schema._cost import count_nodes
from leadbridge_gateway._schema._relay import Connection

from .conftest import GQL, codes


async def test_depth_limit(gql: GQL) -> None:
    deep = "{ contacts { edges { node { customFields { field { alias } } } } } }"
    assert "errors" not in await gql(deep)
    doc = await gql(
        "{ contacts { edges { node { customFields { field { " + "__typename " * 1 + "} } } } } }"
    )
    assert "errors" not in doc
    nested = '{ node(id: "x") { ... on Contact { customFields { field { id } } } } }'
    assert codes(await gql(nested)) == ["BAD_USER_INPUT"]  # within the limit: reaches the resolver


@pytest.mark.parametrize("gateway_settings", [GatewaySettings(max_depth=4)])
async def test_depth_limit_refuses_deeper_queries(gql: GQL) -> None:
    doc = await gql("{ contacts { edges { node { customFields { field { alias } } } } } }")
    assert doc["data"] is None and codes(doc) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "exceeds maximum operation depth of 4" in doc["errors"][0]["message"]


async def test_alias_limit(gql: GQL) -> None:
    ok = "{ " + " ".join(f"a{i}: __typename" for i in range(30)) + " }"
    assert "errors" not in await gql(ok)
    too_many = "{ " + " ".join(f"a{i}: __typename" for i in range(31)) + " }"
    doc = await gql(too_many)
    assert doc["data"] is None and codes(doc) == ["GRAPHQL_VALIDATION_FAILED"]
    assert doc["errors"][0]["message"] == "31 aliases found. Allowed: 30"


@pytest.mark.parametrize("gateway_settings", [GatewaySettings(max_tokens=50)])
async def test_token_limit(gql: GQL) -> None:
    doc = await gql("{ " + "__typename " * 60 + "}")
    assert doc["data"] is None and codes(doc) == ["GRAPHQL_PARSE_FAILED"]
    assert "more than 50 tokens" in doc["errors"][0]["message"]


@pytest.mark.parametrize("gateway_settings", [GatewaySettings(max_nodes=250)])
async def test_node_limit_refuses_before_running(gql: GQL) -> None:
    ok = "{ a: contacts(first: 100) { totalCount } b: contacts(first: 100) { totalCount } }"
    assert "errors" not in await gql(ok)
    doc = await gql(
        "query($n: Int!) { a: contacts(first: 100) { totalCount } "
        "b: contacts(first: 100) { totalCount } c: contacts(first: $n) { totalCount } }",
        {"n": 60},
    )
    assert doc["data"] is None and codes(doc) == ["QUERY_TOO_COMPLEX"]
    assert doc["errors"][0]["message"] == (
        "this query could return up to 260 nodes, more than the 250 allowed "
        "(largest: contacts: 100); ask for fewer with `first` on nested connections"
    )
    # Without `first`, a connection counts its default page of 20.
    defaults = (
        "{ a: contacts(first: 100) { totalCount } b: contacts(first: 100) { totalCount } "
        "c: contacts { totalCount } d: contacts { totalCount } e: contacts { totalCount } }"
    )
    doc = await gql(defaults)
    assert codes(doc) == ["QUERY_TOO_COMPLEX"] and "up to 260 nodes" in doc["errors"][0]["message"]


# The cost walk, on a schema with nested connections (the real one gets them with segments).


@strawberry.type
class Leaf:
    name: str


@strawberry.type
class Branch:
    @strawberry.field
    def leaves(self, first: int = 20) -> Connection[Leaf]:
        raise NotImplementedError


@strawberry.type
class Query:
    @strawberry.field
    def branches(self, first: int = 20, after: str | None = None) -> Connection[Branch]:
        raise NotImplementedError

    @strawberry.field
    def nodes(self, ids: list[strawberry.ID]) -> list[Branch | None]:
        raise NotImplementedError


NESTED = strawberry.Schema(query=Query)._schema


@pytest.mark.parametrize(
    ("query", "variables", "expected"),
    [
        (
            "{ branches(first: 100) { edges { node { leaves(first: 100) { nodes { name } } } } } }",
            {},
            (100 + 100 * 100, ["branches: 100", "leaves: 100"]),
        ),
        ("{ branches { nodes { leaves { nodes { name } } } } }", {}, (20 + 400, None)),
        (
            "query($n: Int = 50) { branches(first: $n) { nodes { ...F } } } "
            "fragment F on Branch { leaves(first: $n) { totalCount } }",
            {},
            (50 + 2500, None),
        ),
        (
            "query($n: Int) { branches(first: $n) { nodes { ... on Branch { a: leaves(first: 10) "
            "{ totalCount } b: leaves(first: 10) { totalCount } } } } }",
            {"n": 7},
            (7 + 70 + 70, None),
        ),
        (
            "query($ids: [ID!]!) { nodes(ids: $ids) { leaves(first: 10) { totalCount } } }",
            {"ids": ["a", "b", "c"]},
            (3 + 30, None),
        ),
        ("{ branches(first: 100000) { totalCount } }", {}, (100, None)),
        ("{ __typename }", {}, (0, [])),
    ],
)
def test_count_nodes(query: str, variables: dict[str, Any], expected: tuple[int, Any]) -> None:
    total, path = count_nodes(NESTED, parse(query), None, variables)
    assert total == expected[0]
    if expected[1] is not None:
        assert path == expected[1]


# -- malformed requests: always an error document, never a 500 -----------------------------


@pytest.mark.parametrize(
    ("content", "status", "message"),
    [
        (b"{not json", 400, "Unable to parse request body as JSON"),
        (b"", 400, "Unable to parse request body as JSON"),
        (b"42", 400, "the request body must be a JSON object"),
        (b'"query"', 400, "the request body must be a JSON object"),
        (b"[1, 2]", 400, "a batch must be a list of JSON objects"),
        (b'[{"query": "{ __typename }"}]', 400, "Batching is not enabled"),
        (b"{}", 400, "No GraphQL query found in the request"),
        (b'{"query": 12}', 400, "must be a string"),
        (b'{"query": "{ __typename }", "variables": [1]}', 400, "must be an object"),
        (b'{"query": "{ __typename }", "extensions": "x"}', 400, "must be an object"),
        (b"\xff\xfe\x00garbage", 400, "Unable to parse request body as JSON"),
    ],
)
async def test_malformed_bodies(
    client: httpx.AsyncClient, token: str, content: bytes, status: int, message: str
) -> None:
    response = await client.post(
        "/graphql",
        content=content,
        headers={"content-type": "application/json", "Authorization": f"Bearer {token}"},
    )
    assert response.status_code == status
    error = response.json()["errors"][0]
    assert message in error["message"] and error["extensions"]["code"]


@pytest.mark.parametrize(
    ("query", "variables", "operation", "code", "message"),
    [
        (
            "{ contacts { nope } }",
            None,
            None,
            "GRAPHQL_VALIDATION_FAILED",
            "Cannot query field 'nope' on type 'ContactConnection'.",
        ),
        (
            '{ contacts(first: "ten") { totalCount } }',
            None,
            None,
            "GRAPHQL_VALIDATION_FAILED",
            "Int cannot represent non-integer value",
        ),
        (
            "query($n: Int!) { contacts(first: $n) { totalCount } }",
            {"n": "ten"},
            None,
            "BAD_USER_INPUT",
            "Variable '$n' has invalid value",
        ),
        (
            "query($n: Int!) { contacts(first: $n) { totalCount } }",
            {},
            None,
            "BAD_USER_INPUT",
            "Expected a value of non-null type 'Int!' to be provided",
        ),
        (
            "query($f: ContactFilter) { contacts(filter: $f) { totalCount } }",
            {"f": {"updatedSince": "yesterday"}},
            None,
            "BAD_USER_INPUT",
            "Variable '$f' has invalid value at .updatedSince",
        ),
        (
            "query($f: ContactFilter) { contacts(filter: $f) { totalCount } }",
            {"f": {"colour": "red"}},
            None,
            "BAD_USER_INPUT",
            "'colour'",
        ),
        (
            "query($n: Int!) { contacts(first: $n) { totalCount } }",
            {"n": 2**40},
            None,
            "BAD_USER_INPUT",
            "Int cannot represent non 32-bit signed integer value",
        ),
        ("{ contacts { totalCount } ", None, None, "GRAPHQL_PARSE_FAILED", "Syntax Error"),
        ("query A { __typename }", None, "Z", "BAD_REQUEST", 'Unknown operation named "Z"'),
        (
            "subscription { x }",
            None,
            None,
            "BAD_REQUEST",
            "subscriptions are not allowed when using POST",
        ),
        (
            'subscription { syncRunProgress(id: "U3luY1J1bjox") { status } }',
            None,
            None,
            "BAD_REQUEST",
            "subscriptions are not allowed when using POST",
        ),
    ],
)
async def test_bad_operations_are_graphql_errors(
    gql: GQL,
    query: str,
    variables: dict[str, Any] | None,
    operation: str | None,
    code: str,
    message: str,
) -> None:
    response = await gql.client.post(
        "/graphql",
        json={"query": query, "variables": variables, "operationName": operation},
        headers={"Authorization": f"Bearer {gql.token}"},
    )
    assert response.status_code in (200, 400), response.text
    doc = response.json()
    assert codes(doc)[0] == code, doc
    assert message in doc["errors"][0]["message"], doc


async def test_other_http_misuse(client: httpx.AsyncClient, token: str) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    put = await client.put("/graphql", json={"query": "{ __typename }"}, headers=auth)
    assert put.status_code == 405 and put.json()["errors"][0]["extensions"]["code"]
    form = await client.post("/graphql", data={"query": "{ __typename }"}, headers=auth)
    assert form.status_code == 400 and "Unsupported content type" in form.text
    mutation_by_get = await client.get(
        "/graphql",
        params={"query": 'mutation { deleteContact(input: {id: "x"}) { userErrors { code } } }'},
        headers=auth,
    )
    assert mutation_by_get.status_code == 400
    assert "mutations are not allowed" in mutation_by_get.json()["errors"][0]["message"].lower()
    query_by_get = await client.get(
        "/graphql", params={"query": "{ contacts { totalCount } }"}, headers=auth
    )
    assert query_by_get.json() == {"data": {"contacts": {"totalCount": 0}}}
    bad_vars = await client.get(
        "/graphql", params={"query": "{ __typename }", "variables": "{oops"}, headers=auth
    )
    assert bad_vars.status_code == 400
    not_a_string = await client.post(
        "/graphql", json={"query": "{ __typename }", "operationName": 5}, headers=auth
    )
    assert not_a_string.status_code in (200, 400) and "errors" in not_a_string.json()
