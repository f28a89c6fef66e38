"""Hostile input gets a typed 4xx before it reaches a database, the same on both databases."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse

from leadbridge import CoreContainer
from leadbridge_gateway import GatewaySettings, create_app

from .conftest import GQL, codes

DEEP = 1000  # levels: ~2 KB of brackets, past Python's recursion limit when parsed


def _global_id(raw: str) -> str:
    return base64.b64encode(raw.encode()).decode()


def _cursor(*parts: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip("=")


def _bad_input(doc: dict[str, Any], *words: str) -> None:
    assert codes(doc) and set(codes(doc)) == {"BAD_USER_INPUT"}, doc
    message = " ".join(e["message"] for e in doc["errors"])
    for word in words:
        assert word in message, doc


# -- deeply nested JSON ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "[" * DEEP + "]" * DEEP,
        '{"query": "{ __typename }", "variables": {"x": ' + "[" * DEEP + "]" * DEEP + "}}",
        '{"query": "{ __typename }", "variables": {"x": "' + "[" * DEEP + '"' + "}" * DEEP,
    ],
    ids=["bare", "in-variables", "brackets-in-a-string-then-unbalanced"],
)
async def test_deeply_nested_json_on_graphql_is_a_400(client: httpx.AsyncClient, body: str) -> None:
    response = await client.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_brackets_inside_strings_are_not_nesting(gql: GQL) -> None:
    deep_text = "[" * DEEP + "{" * DEEP
    doc = await gql(
        "query($s: String!) { contacts(filter: {search: $s}) { totalCount } }", {"s": deep_text}
    )
    assert doc == {"data": {"contacts": {"totalCount": 0}}}


async def test_deeply_nested_json_on_a_webhook_is_a_400_before_the_receiver(
    container: CoreContainer,
) -> None:
    reached: list[bytes] = []

    async def receiver(request: Request) -> JSONResponse:
        body = await request.body()
        reached.append(body)
        return JSONResponse({"parsed": type(json.loads(body)).__name__})

    app = create_app(container, GatewaySettings(), webhooks={"hooks": receiver})
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        deep = await client.post("/webhooks/hooks", content="[" * DEEP + "]" * DEEP)
        assert deep.status_code == 400
        assert deep.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
        assert reached == []
        fine = await client.post("/webhooks/hooks/", content=b'{"data": {"a": [1, {"b": 2}]}}')
        assert fine.json() == {"parsed": "dict"}
        assert reached == [b'{"data": {"a": [1, {"b": 2}]}}']


async def test_nan_and_infinity_in_the_body_are_a_400(client: httpx.AsyncClient) -> None:
    body = '{"query": "{ segmentPreview(filters: $f) }", "variables": {"f": NaN}}'
    response = await client.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400 and "NaN" in response.text


async def test_deeply_nested_literals_and_selections_are_refused(gql: GQL) -> None:
    literal = "{ segmentPreview(filters: " + "[" * DEEP + "]" * DEEP + ") }"
    selections = "{ contacts " + "{ nodes " * DEEP + "{ id }" + " }" * DEEP + " }"
    for query in (literal, selections):
        doc = await gql(query)
        assert doc.get("data") is None and codes(doc), doc
        assert "INTERNAL_SERVER_ERROR" not in codes(doc)


# -- numbers past 64 bits --------------------------------------------------------------------

TOO_BIG = 2**63  # one past the largest BIGINT


async def test_global_ids_past_64_bits_are_bad_input(gql: GQL) -> None:
    big = _global_id(f"Contact:{TOO_BIG}")
    _bad_input(await gql("query($id: ID!) { contact(id: $id) { email } }", {"id": big}), "Contact")
    _bad_input(await gql("query($id: ID!) { node(id: $id) { id } }", {"id": big}), "global ID")
    _bad_input(await gql("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [big]}))
    for raw in ("Segment:99999999999999999999999", "SyncRun:²", "PointAction:-1"):
        doc = await gql("query($id: ID!) { node(id: $id) { id } }", {"id": _global_id(raw)})
        _bad_input(doc, "global ID")
    update = await gql(
        'mutation($id: ID!) { updateContact(input: {id: $id, city: "Lyon"}) '
        "{ contact { id } userErrors { field code } } }",
        {"id": big},
    )
    assert update["data"]["updateContact"] == {
        "contact": None,
        "userErrors": [{"field": ["input", "id"], "code": "INVALID"}],
    }


@pytest.mark.parametrize(
    ("order", "cursor"),
    [
        ("", _cursor("ID:ASC", TOO_BIG, TOO_BIG)),
        ("", _cursor("ID:ASC", 1, -(2**70))),
        ("(orderBy: {field: POINTS})", _cursor("POINTS:ASC", 2**40, 1)),
        ("(orderBy: {field: EMAIL})", _cursor("EMAIL:ASC", "a@x", 10**30)),
        ("", _cursor("ID:ASC", [[[[1]]]], 1)),
    ],
)
async def test_crafted_cursors_with_big_numbers_are_bad_input(
    gql: GQL, order: str, cursor: str
) -> None:
    query = "query($after: String) { contacts" + order.replace(")", ", after: $after)")
    if not order:
        query = "query($after: String) { contacts(after: $after)"
    doc = await gql(query + " { totalCount } }", {"after": cursor})
    _bad_input(doc, "not a cursor this API issued")


async def test_crafted_member_cursors_are_bad_input(gql: GQL) -> None:
    created = await gql.data('mutation { createSegment(input: {name: "All"}) { segment { id } } }')
    segment_id = created["createSegment"]["segment"]["id"]
    for cursor in (_cursor("members", "abc", TOO_BIG), _cursor("members", 1, 2**64)):
        doc = await gql(
            "query($id: ID!, $after: String) { segment(id: $id) "
            "{ members(after: $after) { totalCount } } }",
            {"id": segment_id, "after": cursor},
        )
        _bad_input(doc, "not a cursor this API issued")


async def test_segment_preview_with_a_number_past_64_bits_is_bad_input(gql: GQL) -> None:
    literal = (
        '{ segmentPreview(filters: [{field: "points", operator: "gt", '
        "value: 99999999999999999999999}]) }"
    )
    _bad_input(await gql(literal), "99999999999999999999999", "64-bit")
    variable = "query($f: JSON!) { segmentPreview(filters: $f) }"
    filters = [{"field": "points", "operator": "gt", "value": 99999999999999999999999}]
    _bad_input(await gql(variable, {"f": filters}), "$f[0].value", "64-bit")
    floats = [{"field": "points", "operator": "gt", "value": 1e400}]
    body = json.dumps({"query": variable, "variables": {"f": floats}})
    assert "Infinity" in body  # what json.dumps writes for it; not JSON
    fine = [{"field": "points", "operator": "gt", "value": 2**63 - 1}]
    assert await gql.data(variable, {"f": fine}) == {"segmentPreview": 0}


# -- NUL characters --------------------------------------------------------------------------


async def test_nul_in_any_text_input_is_refused_and_nothing_is_stored(
    gql: GQL, container: CoreContainer
) -> None:
    await gql.data('mutation { createContact(input: {email: "a@example.com"}) { contact { id } } }')
    search = "query($s: String!) { contacts(filter: {search: $s}) { totalCount } }"
    _bad_input(await gql(search, {"s": "\x00abc"}), "$s", "NUL")
    _bad_input(await gql('{ contacts(filter: {search: "\\u0000abc"}) { totalCount } }'), "NUL")
    _bad_input(await gql('{ contact(email: "a\\u0000@example.com") { id } }'), "NUL")

    create = (
        "mutation($input: CreateContactInput!) { createContact(input: $input) "
        "{ contact { id } userErrors { message } } }"
    )
    for contact in (
        {"email": "b\x00@example.com"},
        {"email": "b@example.com", "firstName": "B\x00b"},
        {"email": "b@example.com", "customFields": [{"alias": "plan", "value": "p\x00"}]},
        {"email": "b@example.com", "tags": ["vip\x00"]},
    ):
        _bad_input(await gql(create, {"input": contact}), "NUL")
    segment = (
        "mutation($input: CreateSegmentInput!) { createSegment(input: $input) "
        "{ segment { id } userErrors { message } } }"
    )
    _bad_input(await gql(segment, {"input": {"name": "S\x00"}}), "$input.name", "NUL")
    filters = [{"field": "email", "operator": "contains", "value": "\x00"}]
    _bad_input(await gql(segment, {"input": {"name": "S", "filters": filters}}), "NUL")
    keyed = [{"field\x00": "email"}]
    _bad_input(await gql(segment, {"input": {"name": "S", "filters": keyed}}), "NUL")

    assert await container.contact_service().count() == 1
    assert (await gql.data("{ segments { totalCount } }"))["segments"]["totalCount"] == 0
