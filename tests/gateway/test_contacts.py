from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from leadbridge import CoreContainer
from leadbridge.contacts import ContactRow

from .conftest import GQL, codes

CONTACT_FIELDS = """
  id email firstName lastName company phone city country points createdAt updatedAt
  lastActiveAt tags customFields { alias type value field { alias label options } }
"""


def gid(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


@pytest.fixture
async def people(container: CoreContainer) -> dict[str, Any]:
    fields = container.custom_field_service()
    await fields.define("plan", "select", options=["free", "pro"])
    await fields.define("seats", "number")
    contacts = container.contact_service()
    ann = await contacts.create(
        "Ann@Example.com",
        first_name="Ann",
        last_name="Lee",
        company="Acme",
        fields={"plan": "pro", "seats": 3},
        tags=["lead", "vip"],
    )
    bob = await contacts.create(
        "bob@example.com", first_name="Bob", company="Initech", tags=["lead"]
    )
    cid = await contacts.create("cid@other.org", last_name="Acmeson")
    async with container.session_factory().begin() as session:
        for contact, points in ((ann, 10), (bob, 50), (cid, 30)):
            await session.execute(
                update(ContactRow).where(ContactRow.id == contact.id).values(points=points)
            )
    return {"ann": ann, "bob": bob, "cid": cid}


async def test_contacts_page_with_every_field(gql: GQL, people: dict[str, Any]) -> None:
    data = await gql.data(
        f"{{ contacts(first: 2) {{ totalCount pageInfo {{ hasNextPage hasPreviousPage "
        f"startCursor endCursor }} edges {{ cursor node {{ {CONTACT_FIELDS} }} }} }} }}"
    )
    page = data["contacts"]
    assert page["totalCount"] == 3
    assert page["pageInfo"]["hasNextPage"] is True
    assert page["pageInfo"]["hasPreviousPage"] is False
    assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
    ann = page["edges"][0]["node"]
    assert ann["id"] == gid("Contact", people["ann"].id)
    assert ann["email"] == "Ann@Example.com" and ann["company"] == "Acme"
    assert ann["points"] == 10 and ann["tags"] == ["lead", "vip"]
    assert datetime.fromisoformat(ann["createdAt"]).tzinfo is not None
    assert ann["customFields"] == [
        {
            "alias": "plan",
            "type": "SELECT",
            "value": "pro",
            "field": {"alias": "plan", "label": "Plan", "options": ["free", "pro"]},
        },
        {
            "alias": "seats",
            "type": "NUMBER",
            "value": 3,
            "field": {"alias": "seats", "label": "Seats", "options": None},
        },
    ]
    bob = page["edges"][1]["node"]
    assert bob["tags"] == ["lead"] and bob["customFields"][0]["value"] is None

    rest = await gql.data(
        "query($after: String) { contacts(first: 2, after: $after) { pageInfo { hasNextPage "
        'hasPreviousPage } nodes { email customFields(aliases: ["seats"]) { alias } } } }',
        {"after": page["pageInfo"]["endCursor"]},
    )
    assert rest["contacts"]["nodes"] == [
        {"email": "cid@other.org", "customFields": [{"alias": "seats"}]}
    ]
    assert rest["contacts"]["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": True}


@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        ({"email": "ANN@example.COM"}, ["Ann@Example.com"]),
        ({"search": "acme"}, ["Ann@Example.com", "cid@other.org"]),
        ({"search": "BOB"}, ["bob@example.com"]),
        ({"search": "%"}, []),
        ({"search": "other.org"}, ["cid@other.org"]),
        ({"tag": "LEAD"}, ["Ann@Example.com", "bob@example.com"]),
        ({"tag": "nope"}, []),
        ({"points": {"min": 20}}, ["bob@example.com", "cid@other.org"]),
        ({"points": {"min": 20, "max": 40}}, ["cid@other.org"]),
        ({"points": {"max": 10}}, ["Ann@Example.com"]),
        ({"search": "acme", "tag": "vip"}, ["Ann@Example.com"]),
    ],
)
async def test_contacts_filter(
    gql: GQL, people: dict[str, Any], filter_: dict[str, Any], expected: list[str]
) -> None:
    data = await gql.data(
        "query($f: ContactFilter) { contacts(filter: $f) { totalCount nodes { email } } }",
        {"f": filter_},
    )
    assert [n["email"] for n in data["contacts"]["nodes"]] == expected
    assert data["contacts"]["totalCount"] == len(expected)


async def test_contacts_updated_since(
    gql: GQL, people: dict[str, Any], container: CoreContainer
) -> None:
    old = datetime(2020, 1, 1, tzinfo=UTC)
    async with container.session_factory().begin() as session:
        await session.execute(
            update(ContactRow).where(ContactRow.id != people["bob"].id).values(updated_at=old)
        )
    since = (old + timedelta(days=1)).isoformat()
    data = await gql.data(
        "query($s: DateTime) { contacts(filter: {updatedSince: $s}) { nodes { email } } }",
        {"s": since},
    )
    assert [n["email"] for n in data["contacts"]["nodes"]] == ["bob@example.com"]


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ({}, ["ann", "bob", "cid"]),
        ({"direction": "DESC"}, ["cid", "bob", "ann"]),
        ({"field": "POINTS"}, ["ann", "cid", "bob"]),
        ({"field": "POINTS", "direction": "DESC"}, ["bob", "cid", "ann"]),
        ({"field": "EMAIL", "direction": "DESC"}, ["cid", "bob", "ann"]),
        ({"field": "CREATED_AT"}, ["ann", "bob", "cid"]),
        ({"field": "UPDATED_AT", "direction": "DESC"}, ["cid", "bob", "ann"]),
    ],
)
async def test_contacts_order_walks_pages(
    gql: GQL, people: dict[str, Any], order: dict[str, str], expected: list[str]
) -> None:
    seen: list[str] = []
    after = None
    while True:
        data = await gql.data(
            "query($o: ContactOrder, $a: String) { contacts(first: 1, orderBy: $o, after: $a) "
            "{ pageInfo { hasNextPage endCursor } nodes { email } } }",
            {"o": order, "a": after},
        )
        seen += [n["email"].split("@")[0].lower() for n in data["contacts"]["nodes"]]
        if not data["contacts"]["pageInfo"]["hasNextPage"]:
            break
        after = data["contacts"]["pageInfo"]["endCursor"]
    assert seen == expected


async def test_contact_by_id_or_email(gql: GQL, people: dict[str, Any]) -> None:
    by_id = await gql.data(
        "query($id: ID) { contact(id: $id) { email } }", {"id": gid("Contact", people["bob"].id)}
    )
    assert by_id["contact"] == {"email": "bob@example.com"}
    by_email = await gql.data('{ contact(email: "ANN@example.com") { firstName tags } }')
    assert by_email["contact"] == {"firstName": "Ann", "tags": ["lead", "vip"]}
    missing = await gql.data(
        'query($id: ID) { a: contact(id: $id) { email } b: contact(email: "x@y.zz") { email } }',
        {"id": gid("Contact", 999)},
    )
    assert missing == {"a": None, "b": None}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ("", "give exactly one of `id` and `email`"),
        ('(id: "x", email: "a@b.c")', "give exactly one of `id` and `email`"),
        ('(id: "not-base64!")', "is not a valid global ID"),
        ('(id: "Q3VzdG9tRmllbGQ6MQ==")', "is not the ID of a Contact"),  # CustomField:1
    ],
)
async def test_contact_bad_arguments(gql: GQL, args: str, message: str) -> None:
    doc = await gql(f"{{ contact{args} {{ email }} }}")
    assert codes(doc) == ["BAD_USER_INPUT"] and message in doc["errors"][0]["message"]


async def test_custom_fields_query(gql: GQL, people: dict[str, Any]) -> None:
    data = await gql.data(
        "{ customFields { id alias label type options isUniqueIdentifier isRequired } }"
    )
    assert [f["alias"] for f in data["customFields"]] == ["plan", "seats"]
    plan = data["customFields"][0]
    assert plan["type"] == "SELECT" and plan["options"] == ["free", "pro"]
    assert base64.b64decode(plan["id"]).decode().startswith("CustomField:")


async def test_node_and_nodes(gql: GQL, people: dict[str, Any]) -> None:
    fields = await gql.data("{ customFields { id } }")
    field_id = fields["customFields"][0]["id"]
    ann_id = gid("Contact", people["ann"].id)
    data = await gql.data(
        "query($id: ID!, $ids: [ID!]!) { node(id: $id) { __typename id ... on Contact { email } } "
        "nodes(ids: $ids) { __typename id ... on CustomField { alias } "
        "... on Contact { email } } }",
        {"id": ann_id, "ids": [field_id, gid("Contact", 999), ann_id, gid("Planet", 1)]},
    )
    assert data["node"] == {"__typename": "Contact", "id": ann_id, "email": "Ann@Example.com"}
    assert data["nodes"] == [
        {"__typename": "CustomField", "id": field_id, "alias": "plan"},
        None,
        {"__typename": "Contact", "id": ann_id, "email": "Ann@Example.com"},
        None,
    ]
    bad = await gql('{ node(id: "%%%") { id } }')
    assert (
        codes(bad) == ["BAD_USER_INPUT"] and "not a valid global ID" in bad["errors"][0]["message"]
    )
    many = await gql("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [ann_id] * 101})
    assert codes(many) == ["BAD_USER_INPUT"] and "at most 100" in many["errors"][0]["message"]


@pytest.mark.parametrize("first", [0, -1, 101, 1000])
async def test_first_out_of_range_is_refused(gql: GQL, first: int) -> None:
    doc = await gql(f"{{ contacts(first: {first}) {{ totalCount }} }}")
    assert codes(doc) == ["BAD_USER_INPUT"]
    assert doc["errors"][0]["message"].startswith(f"`first` must be between 1 and 100, got {first}")


async def test_bad_cursors_are_refused(gql: GQL, people: dict[str, Any]) -> None:
    page = await gql.data("{ contacts(first: 1) { pageInfo { endCursor } } }")
    cursor = page["contacts"]["pageInfo"]["endCursor"]
    other = await gql(
        "query($a: String) { contacts(after: $a, orderBy: {field: EMAIL}) { totalCount } }",
        {"a": cursor},
    )
    assert codes(other) == ["BAD_USER_INPUT"]
    assert "keep the same `orderBy`" in other["errors"][0]["message"]
    for junk in ("junk", base64.urlsafe_b64encode(b'["ID:ASC","x",null]').decode(), ""):
        doc = await gql("query($a: String) { contacts(after: $a) { totalCount } }", {"a": junk})
        assert codes(doc) == ["BAD_USER_INPUT"], junk
        assert "is not a cursor this API issued" in doc["errors"][0]["message"]


async def test_a_failing_field_next_to_a_reading_one(gql: GQL, people: dict[str, Any]) -> None:
    # `contacts` is non-null: its error nulls the whole answer and cancels the other field
    # midway through its read; the request's session must still be given back cleanly.
    for _ in range(3):
        doc = await gql(
            '{ contact(email: "ann@example.com") { id } contacts(first: 0) { totalCount } }'
        )
        assert doc["data"] is None and codes(doc) == ["BAD_USER_INPUT"]
    assert (await gql.data("{ contacts { totalCount } }"))["contacts"]["totalCount"] == 3
