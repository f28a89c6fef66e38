from __future__ import annotations

import base64
import logging
from datetime import timedelta

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
)

from leadbridge import CoreContainer, Scope
from leadbridge.contacts import ContactRepository
from leadbridge_gateway import GatewaySettings, build_schema
from leadbridge_gateway._schema import required_scope

from .conftest import GQL, MakeToken, codes

SCHEMA = build_schema()


def _literal(type_: GraphQLInputType) -> str:
    if isinstance(type_, GraphQLNonNull):
        return _literal(type_.of_type)
    if isinstance(type_, GraphQLList):
        return f"[{_literal(type_.of_type)}]"
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        fields = [
            f"{name}: {_literal(field.type)}"
            for name, field in type_.fields.items()
            if isinstance(field.type, GraphQLNonNull)
        ]
        return "{" + ", ".join(fields) + "}"
    assert isinstance(type_, GraphQLScalarType)
    return {"Int": "1", "Float": "1.5", "Boolean": "false"}.get(type_.name, '"x"')


def _operation(kind: str, name: str, field: GraphQLField) -> str:
    args = [
        f"{arg_name}: {_literal(arg.type)}"
        for arg_name, arg in field.args.items()
        if isinstance(arg.type, GraphQLNonNull)
    ]
    call = f"{name}({', '.join(args)})" if args else name
    selection = (
        " { __typename }" if isinstance(get_named_type(field.type), GraphQLObjectType) else ""
    )
    if name == "nodes" or name == "node":
        selection = " { __typename }"
    return f"{kind} {{ {call}{selection} }}"


def _root_fields() -> list[tuple[str, str, Scope | None]]:
    out = []
    for kind, type_name in (("query", "Query"), ("mutation", "Mutation")):
        definition = SCHEMA.get_type_by_name(type_name)
        assert definition is not None
        for field in definition.fields:  # type: ignore[union-attr]
            check = required_scope(field.extensions)
            assert check is not None, f"{type_name}.{field.name} checks no scope"
            out.append((kind, SCHEMA.config.name_converter.get_graphql_name(field), check.scope))
    return out


ROOT_FIELDS = _root_fields()


def test_every_root_field_declares_a_fitting_scope() -> None:
    assert len(ROOT_FIELDS) >= 10
    for kind, name, scope in ROOT_FIELDS:
        if kind == "mutation":
            assert scope is not None and not scope.value.endswith(":read"), name
        else:
            assert scope is None or scope.value.endswith(":read"), name
            if scope is None:
                assert name in ("node", "nodes")  # they check each object's type's scope


@pytest.mark.parametrize(("kind", "name", "scope"), ROOT_FIELDS, ids=[f[1] for f in ROOT_FIELDS])
async def test_root_field_refuses_callers_without_its_scope(
    client: httpx.AsyncClient,
    make_token: MakeToken,
    container: CoreContainer,
    kind: str,
    name: str,
    scope: Scope | None,
) -> None:
    graphql_schema = SCHEMA._schema
    root = graphql_schema.query_type if kind == "query" else graphql_schema.mutation_type
    assert root is not None
    operation = _operation(kind, name, root.fields[name])
    if name in ("node", "nodes"):
        contact = await container.contact_service().create("ann@x.io")
        operation = operation.replace(
            '"x"', '"' + base64.b64encode(f"Contact:{contact.id}".encode()).decode() + '"'
        )
        scope = Scope.CONTACTS_READ

    anonymous = await GQL(client, None)(operation)
    assert codes(anonymous) == ["UNAUTHENTICATED"], anonymous
    assert anonymous["data"] is None or anonymous["data"].get(name) is None

    assert scope is not None
    others = await make_token(*(s for s in Scope if s is not scope))
    refused = await GQL(client, others)(operation)
    assert codes(refused) == ["FORBIDDEN"], refused
    assert f"lacks the scope `{scope.value}`" in refused["errors"][0]["message"]

    allowed = await GQL(client, await make_token(scope))(operation)
    assert "FORBIDDEN" not in codes(allowed) and "UNAUTHENTICATED" not in codes(allowed)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Bearer lbt_unknown", "the API token is unknown, revoked or expired"),
        ("Basic YTpi", "the Authorization header must read `Bearer <token>`"),
        ("Bearer", "the Authorization header must read `Bearer <token>`"),
        ("", "authentication required"),
    ],
)
async def test_bad_credentials(client: httpx.AsyncClient, header: str, message: str) -> None:
    response = await client.post(
        "/graphql",
        json={"query": "{ contacts { totalCount } }"},
        headers={"Authorization": header},
    )
    doc = response.json()
    assert response.status_code == 200 and codes(doc) == ["UNAUTHENTICATED"]
    assert doc["errors"][0]["message"].startswith(message)


async def test_revoked_and_expired_tokens_are_refused(
    client: httpx.AsyncClient, container: CoreContainer
) -> None:
    service = container.token_service()
    issued = await service.create("soon revoked", ["contacts:read"])
    gql = GQL(client, issued.secret)
    assert "errors" not in await gql("{ contacts { totalCount } }")
    await service.revoke(issued.token.id)
    assert codes(await gql("{ contacts { totalCount } }")) == ["UNAUTHENTICATED"]

    from sqlalchemy import update

    from leadbridge.tokens import ApiTokenRow

    short = await service.create("short", ["contacts:read"], expires_in=timedelta(hours=1))
    async with container.session_factory().begin() as session:
        await session.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.id == short.token.id)
            .values(expires_at=short.token.created_at)
        )
    assert codes(await GQL(client, short.secret)("{ contacts { totalCount } }")) == [
        "UNAUTHENTICATED"
    ]


async def test_one_field_refused_does_not_hide_the_others(
    client: httpx.AsyncClient, make_token: MakeToken
) -> None:
    gql = GQL(client, await make_token(Scope.SEGMENTS_READ, Scope.CONTACTS_WRITE))
    doc = await gql("{ __typename contacts { totalCount } }")
    assert doc["data"] is None  # contacts is non-null: the error bubbles up to data
    assert codes(doc) == ["FORBIDDEN"] and doc["errors"][0]["path"] == ["contacts"]
    doc = await gql('{ contact(email: "a@b.cd") { id } customFields { alias } }')
    assert codes(doc) == ["FORBIDDEN", "FORBIDDEN"]


async def test_internal_errors_are_masked_and_logged(
    gql: GQL, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("connection to db-primary:5432 failed for user admin")

    monkeypatch.setattr(ContactRepository, "page", broken)
    with caplog.at_level(logging.ERROR, logger="leadbridge.gateway"):
        doc = await gql("{ contacts { totalCount } }")
    assert doc["errors"] == [
        {
            "message": "Internal server error",
            "locations": [{"line": 1, "column": 3}],
            "path": ["contacts"],
            "extensions": {"code": "INTERNAL_SERVER_ERROR"},
        }
    ]
    assert "db-primary" in caplog.text and "RuntimeError" in caplog.text


INTROSPECTION = "{ __schema { queryType { name } } }"


async def test_introspection_answers_callers_with_a_token_only(gql: GQL) -> None:
    data = await gql.data(INTROSPECTION)
    assert data["__schema"]["queryType"]["name"] == "Query"
    assert (await gql.data('{ __type(name: "Contact") { name } }'))["__type"]["name"] == "Contact"

    for token in (None, "lbt_unknown"):
        for query in (
            INTROSPECTION,
            '{ __type(name: "Contact") { fields { name } } }',
            "query { ...F } fragment F on Query { __schema { types { name } } }",
        ):
            doc = await gql(query, token=token)
            assert doc["data"] is None and codes(doc) == ["UNAUTHENTICATED"], doc
            assert doc["errors"][0]["message"].startswith("introspection needs an API token")
    # No hint that names a field either.
    typo = await gql("{ contact { emial } }", token=None)
    assert "Did you mean" not in typo["errors"][0]["message"]
    assert (await gql("{ __typename }", token=None))["data"] == {"__typename": "Query"}


@pytest.mark.parametrize(
    "gateway_settings",
    [GatewaySettings(anonymous_introspection=True), GatewaySettings(graphiql=True)],
    ids=["configured", "graphiql"],
)
async def test_anonymous_introspection_when_configured_or_with_graphiql(gql: GQL) -> None:
    doc = await gql(INTROSPECTION, token=None)
    assert doc == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


@pytest.mark.parametrize("gateway_settings", [GatewaySettings(introspection=False)])
async def test_introspection_can_be_switched_off(gql: GQL) -> None:
    doc = await gql("{ __schema { types { name } } }")
    assert doc["data"] is None and set(codes(doc)) == {"GRAPHQL_VALIDATION_FAILED"}
    assert "introspection" in doc["errors"][0]["message"].lower()
    typo = await gql("{ contact { emial } }")
    assert "Did you mean" not in typo["errors"][0]["message"]  # no schema hints either
