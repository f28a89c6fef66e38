from __future__ import annotations

import base64
from typing import Any

import pytest

from leadbridge import CoreContainer, NotFoundError

from .conftest import GQL

CREATE = """
mutation($input: CreateContactInput!) {
  createContact(input: $input) {
    contact { id email firstName company tags customFields(aliases: ["plan"]) { value } }
    userErrors { field message code }
  }
}"""

UPDATE = """
mutation($input: UpdateContactInput!) {
  updateContact(input: $input) {
    contact { email firstName lastName company customFields { alias value } }
    userErrors { field message code }
  }
}"""


def gid(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


@pytest.fixture
async def plan_field(container: CoreContainer) -> None:
    await container.custom_field_service().define("plan", "select", options=["free", "pro"])


async def test_create_contact(gql: GQL, container: CoreContainer, plan_field: None) -> None:
    data = await gql.data(
        CREATE,
        {
            "input": {
                "email": "ann@x.io",
                "firstName": "Ann",
                "company": "Acme",
                "tags": ["VIP", "lead"],
                "customFields": [{"alias": "plan", "value": "pro"}],
            }
        },
    )
    payload = data["createContact"]
    assert payload["userErrors"] == []
    contact = payload["contact"]
    assert contact["email"] == "ann@x.io" and contact["firstName"] == "Ann"
    assert contact["tags"] == ["lead", "vip"]
    assert contact["customFields"] == [{"value": "pro"}]
    stored = await container.contact_service().get_by_email("ann@x.io")
    assert contact["id"] == gid("Contact", stored.id) and stored.company == "Acme"


@pytest.mark.parametrize(
    ("input_", "error"),
    [
        ({"email": "not-an-email"}, {"field": ["input", "email"], "code": "INVALID"}),
        (
            {"email": "a@x.io", "customFields": [{"alias": "plan", "value": "gold"}]},
            {"field": ["input", "customFields", "plan"], "code": "INVALID"},
        ),
        (
            {"email": "a@x.io", "customFields": [{"alias": "shoe", "value": 42}]},
            {"field": ["input", "customFields", "shoe"], "code": "INVALID"},
        ),
        (
            {"email": "a@x.io", "customFields": [{"alias": "email", "value": "b@x.io"}]},
            {"field": ["input", "customFields"], "code": "INVALID"},
        ),
        ({"email": "a@x.io", "tags": [" "]}, {"field": ["input", "tags"], "code": "INVALID"}),
    ],
)
async def test_create_contact_user_errors_write_nothing(
    gql: GQL,
    container: CoreContainer,
    plan_field: None,
    input_: dict[str, Any],
    error: dict[str, Any],
) -> None:
    payload = (await gql.data(CREATE, {"input": input_}))["createContact"]
    assert payload["contact"] is None
    assert len(payload["userErrors"]) == 1
    assert error.items() <= payload["userErrors"][0].items()
    assert payload["userErrors"][0]["message"]
    assert await container.contact_service().count() == 0


async def test_create_duplicate_is_a_conflict(gql: GQL) -> None:
    await gql.data(CREATE, {"input": {"email": "ann@x.io"}})
    payload = (await gql.data(CREATE, {"input": {"email": "ANN@x.io"}}))["createContact"]
    assert payload["userErrors"] == [
        {
            "field": ["input", "email"],
            "code": "CONFLICT",
            "message": "a contact with email 'ANN@x.io' already exists",
        }
    ]


async def test_update_contact_changes_only_given_fields(
    gql: GQL, container: CoreContainer, plan_field: None
) -> None:
    ann = await container.contact_service().create(
        "ann@x.io", first_name="Ann", last_name="Lee", company="Acme", fields={"plan": "free"}
    )
    data = await gql.data(
        UPDATE,
        {
            "input": {
                "id": gid("Contact", ann.id),
                "firstName": "Anne",
                "company": None,
                "customFields": [{"alias": "plan", "value": "pro"}],
            }
        },
    )
    payload = data["updateContact"]
    assert payload["userErrors"] == []
    assert payload["contact"] == {
        "email": "ann@x.io",
        "firstName": "Anne",
        "lastName": "Lee",
        "company": None,
        "customFields": [{"alias": "plan", "value": "pro"}],
    }
    cleared = await gql.data(
        UPDATE,
        {
            "input": {
                "id": gid("Contact", ann.id),
                "customFields": [{"alias": "plan", "value": None}],
            }
        },
    )
    assert cleared["updateContact"]["contact"]["customFields"] == [{"alias": "plan", "value": None}]
    assert (await container.contact_service().get(ann.id)).fields == {}


@pytest.mark.parametrize(
    ("input_", "error"),
    [
        (
            {"id": "Q29udGFjdDo5OTk=", "firstName": "X"},  # Contact:999
            {
                "field": ["input", "id"],
                "code": "NOT_FOUND",
                "message": "contact 999 does not exist",
            },
        ),
        ({"id": "garbage", "firstName": "X"}, {"field": ["input", "id"], "code": "INVALID"}),
        ({"id": None, "email": None}, {"field": ["input", "email"], "code": "INVALID"}),
        ({"id": None, "phone": "call me"}, {"field": ["input", "phone"], "code": "INVALID"}),
    ],
)
async def test_update_contact_user_errors(
    gql: GQL, container: CoreContainer, input_: dict[str, Any], error: dict[str, Any]
) -> None:
    ann = await container.contact_service().create("ann@x.io", phone="+33 1 23")
    if input_["id"] is None:
        input_["id"] = gid("Contact", ann.id)
    payload = (await gql.data(UPDATE, {"input": input_}))["updateContact"]
    assert payload["contact"] is None
    assert error.items() <= payload["userErrors"][0].items()
    assert (await container.contact_service().get(ann.id)).phone == "+33 1 23"


async def test_delete_contact(gql: GQL, container: CoreContainer) -> None:
    ann = await container.contact_service().create("ann@x.io")
    mutation = (
        "mutation($id: ID!) { deleteContact(input: {id: $id}) { deletedContactId "
        "userErrors { field code } } }"
    )
    data = await gql.data(mutation, {"id": gid("Contact", ann.id)})
    assert data["deleteContact"] == {"deletedContactId": gid("Contact", ann.id), "userErrors": []}
    with pytest.raises(NotFoundError):
        await container.contact_service().get(ann.id)
    again = await gql.data(mutation, {"id": gid("Contact", ann.id)})
    assert again["deleteContact"] == {
        "deletedContactId": None,
        "userErrors": [{"field": ["input", "id"], "code": "NOT_FOUND"}],
    }


async def test_tag_and_untag_contact(gql: GQL, container: CoreContainer) -> None:
    ann = await container.contact_service().create("ann@x.io", tags=["lead"])
    tag = (
        "mutation($id: ID!, $tags: [String!]!) { tagContact(input: {id: $id, tags: $tags}) "
        "{ contact { tags } userErrors { field code } } }"
    )
    untag = tag.replace("tagContact", "untagContact")
    ann_id = gid("Contact", ann.id)
    data = await gql.data(tag, {"id": ann_id, "tags": ["VIP", "webinar"]})
    assert data["tagContact"] == {"contact": {"tags": ["lead", "vip", "webinar"]}, "userErrors": []}
    data = await gql.data(untag, {"id": ann_id, "tags": ["lead", "unknown"]})
    assert data["untagContact"]["contact"] == {"tags": ["vip", "webinar"]}
    assert (await container.contact_service().get(ann.id)).tags == ("vip", "webinar")
    empty = await gql.data(tag, {"id": ann_id, "tags": []})
    assert empty["tagContact"] == {
        "contact": None,
        "userErrors": [{"field": ["input", "tags"], "code": "INVALID"}],
    }
    missing = await gql.data(tag, {"id": gid("Contact", 999), "tags": ["x"]})
    assert missing["tagContact"]["userErrors"] == [{"field": ["input", "id"], "code": "NOT_FOUND"}]


async def test_create_custom_field(gql: GQL, container: CoreContainer) -> None:
    mutation = (
        "mutation($input: CreateCustomFieldInput!) { createCustomField(input: $input) "
        "{ customField { alias label type options isRequired } "
        "userErrors { field message code } } }"
    )
    data = await gql.data(
        mutation, {"input": {"alias": "plan", "type": "SELECT", "options": ["free", "pro"]}}
    )
    assert data["createCustomField"] == {
        "customField": {
            "alias": "plan",
            "label": "Plan",
            "type": "SELECT",
            "options": ["free", "pro"],
            "isRequired": False,
        },
        "userErrors": [],
    }
    assert (await container.custom_field_service().get("plan")).options == ("free", "pro")
    dup = await gql.data(mutation, {"input": {"alias": "plan", "type": "TEXT"}})
    assert dup["createCustomField"]["userErrors"] == [
        {
            "field": ["input", "alias"],
            "code": "CONFLICT",
            "message": "custom field 'plan' already exists",
        }
    ]
    no_options = await gql.data(mutation, {"input": {"alias": "size", "type": "MULTISELECT"}})
    assert no_options["createCustomField"]["userErrors"][0]["field"] == ["input", "options"]
    bad_alias = await gql.data(mutation, {"input": {"alias": "Bad Alias", "type": "TEXT"}})
    assert bad_alias["createCustomField"]["userErrors"][0]["field"] == ["input", "alias"]
    wrong_enum = await gql(mutation, {"input": {"alias": "x", "type": "COLOUR"}})
    assert wrong_enum["data"] is None and "COLOUR" in wrong_enum["errors"][0]["message"]
