"""Batching (a constant number of SQL statements per request) and keyset pagination."""

from __future__ import annotations

import asyncio
import base64
import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, update

from leadbridge import CoreContainer
from leadbridge.contacts import ContactRow

from .conftest import GQL


@contextmanager
def count_statements(container: CoreContainer) -> Iterator[list[str]]:
    statements: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = container.engine().sync_engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


@pytest.fixture
async def many(container: CoreContainer) -> list[int]:
    await container.custom_field_service().define("plan", "select", options=["free", "pro"])
    rows = [
        {
            "email": f"c{i:03}@x.io",
            "first_name": f"N{i}",
            "plan": "pro" if i % 2 else "free",
            "tags": ["all", f"t{i % 5}", f"u{i % 7}"],
        }
        for i in range(150)
    ]
    result = await container.contact_service().bulk_upsert(rows)
    return sorted(result.ids.values())


PAGE = """
query($n: Int!) {
  contacts(first: $n) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id email tags customFields { alias value field { label } } } }
  }
}"""

NODES = """
query($ids: [ID!]!) {
  nodes(ids: $ids) { ... on Contact { email tags customFields { value } } }
}"""


async def test_statements_per_page_do_not_grow_with_the_page(
    gql: GQL, container: CoreContainer, many: list[int]
) -> None:
    await gql.data(PAGE, {"n": 1})  # the token's first use records last_used_at
    counts = {}
    for n in (10, 100):
        with count_statements(container) as statements:
            data = await gql.data(PAGE, {"n": n})
        assert len(data["contacts"]["edges"]) == n
        assert all(len(e["node"]["tags"]) == 3 for e in data["contacts"]["edges"])
        counts[n] = len(statements)
    assert counts[100] == counts[10], counts
    # token + page + count + tags + custom field definitions (+ BEGINs on SQLite)
    assert counts[100] <= 10, counts

    ids = [base64.b64encode(f"Contact:{i}".encode()).decode() for i in many]
    node_counts = {}
    for n in (10, 100):
        with count_statements(container) as statements:
            data = await gql.data(NODES, {"ids": ids[:n]})
        assert len(data["nodes"]) == n and all(node["tags"] for node in data["nodes"])
        node_counts[n] = len(statements)
    assert node_counts[100] == node_counts[10], node_counts


@pytest.mark.parametrize(
    "order",
    [
        {"field": "ID", "direction": "ASC"},
        {"field": "EMAIL", "direction": "ASC"},
        {"field": "EMAIL", "direction": "DESC"},
        {"field": "POINTS", "direction": "DESC"},
        {"field": "CREATED_AT", "direction": "ASC"},
    ],
)
async def test_walk_sees_every_contact_once_under_concurrent_inserts(
    gql: GQL, container: CoreContainer, order: dict[str, str]
) -> None:
    rng = random.Random(7)
    contacts = container.contact_service()
    originals = set()
    for i in rng.sample(range(1000), 60):
        created = await contacts.create(f"p{i:04}@x.io")
        originals.add(created.email)
    async with container.session_factory().begin() as session:
        for email in originals:  # many ties on points: the id breaks them
            await session.execute(
                update(ContactRow).where(ContactRow.email == email).values(points=rng.randint(0, 4))
            )

    async def writer() -> int:
        # Bounded: in ID order every insert lands after the cursor, so an endless writer
        # would make an endless walk.
        for n in range(40):
            await contacts.create(f"p{rng.randrange(1000):04}-new{n}@x.io")
            await asyncio.sleep(0)
        return 40

    task = asyncio.create_task(writer())
    seen: list[str] = []
    after = None
    try:
        while True:
            data = await gql.data(
                "query($o: ContactOrder, $a: String) { contacts(first: 7, orderBy: $o, after: $a) "
                "{ pageInfo { hasNextPage endCursor } nodes { email } } }",
                {"o": order, "a": after},
            )
            seen += [n["email"] for n in data["contacts"]["nodes"]]
            await asyncio.sleep(0)
            if not data["contacts"]["pageInfo"]["hasNextPage"]:
                break
            after = data["contacts"]["pageInfo"]["endCursor"]
    finally:
        inserted = await task
    assert inserted == 40
    assert len(seen) == len(set(seen))  # nothing twice
    assert originals <= set(seen)  # every contact that existed throughout, once


async def test_fast_leaf_path_answers_like_graphql_core(
    container: CoreContainer, token: str, many: list[int]
) -> None:
    """The plain-leaf shortcut of the execution context changes nothing in any answer."""
    from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

    from leadbridge_gateway import GatewayContainer, GatewayContext, build_schema

    services = GatewayContainer(core=container).services()
    fast, plain = build_schema(), build_schema()
    plain.execution_context_class = StrawberryGraphQLCoreExecutionContext
    first = base64.b64encode(f"Contact:{many[0]}".encode()).decode()
    queries = [
        PAGE.replace("$n", "100").replace("query($n: Int!)", "query"),
        "{ contacts(first: 3, orderBy: {field: POINTS, direction: DESC}) { edges { cursor node "
        "{ id email firstName lastName company phone city country points createdAt updatedAt "
        "lastActiveAt tags __typename } } pageInfo { hasNextPage hasPreviousPage startCursor } } }",
        f'{{ node(id: "{first}") {{ id ... on Contact {{ email points }} }} }}',
        "{ customFields { alias type options isRequired } }",
        '{ contact(email: "nobody@x.io") { id } contacts(first: 0) { totalCount } }',
    ]
    for query in queries:
        answers = []
        for schema in (fast, plain):
            context = GatewayContext(services, authorization=f"Bearer {token}")
            result = await schema.execute(query, context_value=context)
            await context.close()
            answers.append((result.data, [e.formatted for e in result.errors or ()]))
        assert answers[0] == answers[1], query


WITH_LISTS = """
query($n: Int!) {
  contacts(first: $n) {
    nodes {
      id tags segments { alias } integrationMappings { integration externalId }
      livestormRegistrations { sessionId attended questions registeredAt }
    }
  }
}"""


async def test_segments_tags_and_mappings_cost_the_same_for_100_as_for_10(
    gql: GQL, container: CoreContainer, many: list[int]
) -> None:
    from leadbridge.sync import SyncObjectMappingRow

    from .test_contact_data import add_registrations

    segments = container.segment_service()
    for alias in ("s1", "s2"):
        await segments.create(alias, filters=[{"field": "email", "operator": "like", "value": "c"}])
        await segments.rebuild(alias)
    async with container.session_factory().begin() as session:
        session.add_all(
            SyncObjectMappingRow(
                integration="livestorm", object="people", integration_id=f"e{i}", contact_id=i
            )
            for i in many
        )
    await add_registrations(container, many, sessions=2)  # a plugin-provided list field
    await gql.data(WITH_LISTS, {"n": 1})
    counts = {}
    for n in (10, 100):
        with count_statements(container) as statements:
            data = await gql.data(WITH_LISTS, {"n": n})
        nodes = data["contacts"]["nodes"]
        assert len(nodes) == n
        assert all(len(c["segments"]) == 2 and len(c["integrationMappings"]) == 1 for c in nodes)
        assert all(len(c["livestormRegistrations"]) == 2 for c in nodes)
        counts[n] = len(statements)
    assert counts[100] == counts[10], counts
