from __future__ import annotations

import json

import httpx
import jsonschema

from leadbridge import CoreContainer, Scope

from .conftest import GQL, MakeToken, codes

MARKER = "s3cr3t-marker-9f1c2e"

INTEGRATION_FIELDS = """
  name displayName description iconUrl features enabled configured credentialsSet
  conflictWinner fieldMappings { object internalField integrationField direction }
  lastRun { id status error }
  syncStatus { state runningRunId lastError nextCursors mappedObjects unresolvedErrors }
"""

CONFIGURE = (
    "mutation($input: ConfigureIntegrationInput!) { configureIntegration(input: $input) { "
    f"integration {{ {INTEGRATION_FIELDS} }} userErrors {{ field message code }} }} }}"
)


async def test_configure_then_no_response_carries_the_secret(
    gql: GQL, container: CoreContainer, client: httpx.AsyncClient
) -> None:
    contact = await container.contact_service().create("ann@x.io")
    texts: list[str] = []

    async def run(query: str, variables: dict[str, object] | None = None) -> dict[str, object]:
        doc = await gql(query, variables)
        texts.append(json.dumps(doc))
        return doc

    doc = await run(
        CONFIGURE,
        {
            "input": {
                "name": "livestorm",
                "credentials": {"api_token": MARKER, "webhook_secret": MARKER},
            }
        },
    )
    payload = doc["data"]["configureIntegration"]  # type: ignore[index]
    assert payload["userErrors"] == []
    assert payload["integration"]["credentialsSet"] is True
    assert payload["integration"]["iconUrl"] == "/integrations/livestorm/icon"
    assert payload["integration"]["syncStatus"]["state"] == "IDLE"
    await run(f"{{ integrations {{ {INTEGRATION_FIELDS} }} }}")
    await run(f'{{ integration(name: "livestorm") {{ {INTEGRATION_FIELDS} }} }}')
    await run(
        "{ contacts { nodes { id email integrationMappings { integration object externalId "
        "lastSyncedAt } segments { alias } customFields { value } } } }"
    )
    await run("{ segments { nodes { alias } } customFields { alias } }")
    # a bad credential key is refused without echoing the value
    doc = await run(CONFIGURE, {"input": {"name": "livestorm", "credentials": {"nope": MARKER}}})
    errors = doc["data"]["configureIntegration"]["userErrors"]  # type: ignore[index]
    assert errors and errors[0]["field"][:2] == ["input", "credentials"]
    for text in texts:
        assert MARKER not in text
    assert contact.id


async def test_field_mapping_and_contact_mappings(gql: GQL, container: CoreContainer) -> None:
    contact = await container.contact_service().create("bob@x.io", company="Acme")
    data = await gql.data(
        """mutation { setFieldMapping(input: {name: "livestorm", object: "people", mappings: [
             {internalField: "email", integrationField: "email"},
             {internalField: "first_name", integrationField: "first_name"}]}) {
           integration { fieldMappings { object internalField integrationField direction } }
           userErrors { field message } } }"""
    )
    payload = data["setFieldMapping"]
    assert payload["userErrors"] == [], payload
    mapped = {m["internalField"] for m in payload["integration"]["fieldMappings"]}
    assert mapped == {"email", "first_name"}
    data = await gql.data(
        """mutation { setFieldMapping(input: {name: "livestorm", object: "people", mappings: [
             {internalField: "nope", integrationField: "email"}]}) {
           integration { name } userErrors { field message code } } }"""
    )
    [error] = data["setFieldMapping"]["userErrors"]
    assert "nope" in error["message"] and data["setFieldMapping"]["integration"] is None

    from leadbridge.sync import SyncObjectMappingRow

    async with container.session_factory().begin() as session:
        session.add(
            SyncObjectMappingRow(
                integration="livestorm",
                object="people",
                integration_id="ext-1",
                contact_id=contact.id,
            )
        )
    data = await gql.data(
        "{ contacts { nodes { integrationMappings { integration object externalId } } } }"
    )
    assert data["contacts"]["nodes"] == [
        {
            "integrationMappings": [
                {"integration": "livestorm", "object": "people", "externalId": "ext-1"}
            ]
        }
    ]
    assert (await gql.data('{ integration(name: "nope") { name } }'))["integration"] is None


async def test_icon_route(client: httpx.AsyncClient) -> None:
    response = await client.get("/integrations/livestorm/icon")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert (await client.get("/integrations/nope/icon")).status_code == 404


async def test_mappings_need_integrations_read(
    gql: GQL, container: CoreContainer, make_token: MakeToken
) -> None:
    await container.contact_service().create("c@x.io")
    token = await make_token(Scope.CONTACTS_READ)
    doc = await gql("{ contacts { nodes { integrationMappings { externalId } } } }", token=token)
    assert "FORBIDDEN" in codes(doc)


# -- an integrations page from GraphQL alone: the settings form and the mapping editor ------

PAGE = """query($name: String!) { integration(name: $name) {
  settings settingsSchema
  credentialFields { name label description required set }
  objects { name label internalObject
    fields { name label type required uniqueIdentifier allowedDirections }
    internalFields { name label type custom required uniqueIdentifier options } }
} }"""


async def test_an_integrations_page_from_graphql_alone(
    gql: GQL, container: CoreContainer, client: httpx.AsyncClient
) -> None:
    await container.custom_field_service().define(
        "plan", "select", label="Plan", options=["free", "pro"]
    )
    page = (await gql.data(PAGE, {"name": "example"}))["integration"]

    assert page["settings"] == {
        "requests_per_second": 5.0,
        "sync_deleted": False,
        "tags": [],
        "region": "eu",
    }
    schema = page["settingsSchema"]
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    region = schema["properties"]["region"]
    assert region["enum"] == ["eu", "us"] and region["default"] == "eu"
    assert region["description"] == "Where the CRM keeps the data."
    rate = schema["properties"]["requests_per_second"]
    assert (rate["type"], rate["exclusiveMinimum"], rate["maximum"], rate["default"]) == (
        "number",
        0,
        50,
        5.0,
    )

    unset = {"description": None, "set": False}
    assert page["credentialFields"] == [
        {"name": "api_key", "label": "Api key", "required": True, **unset},
        {"name": "account", "label": "Account", "required": False, **unset},
    ]
    configured = await gql(
        CONFIGURE, {"input": {"name": "example", "credentials": {"api_key": MARKER}}}
    )
    assert configured["data"]["configureIntegration"]["userErrors"] == []
    doc = await gql(PAGE, {"name": "example"})
    assert MARKER not in json.dumps(doc)
    fields = {f["name"]: f["set"] for f in doc["data"]["integration"]["credentialFields"]}
    assert fields == {"api_key": True, "account": False}

    people = page["objects"][0]
    assert (people["name"], people["label"], people["internalObject"]) == (
        "people",
        "People",
        "contact",
    )
    by_name = {f["name"]: f for f in people["fields"]}
    assert by_name["email"] == {
        "name": "email",
        "label": "Email",
        "type": "EMAIL",
        "required": True,
        "uniqueIdentifier": True,
        "allowedDirections": ["TO_INTERNAL", "TO_INTEGRATION", "BIDIRECTIONAL"],
    }
    assert by_name["score"]["allowedDirections"] == ["TO_INTERNAL"]
    internal = {f["name"]: f for f in people["internalFields"]}
    assert internal["email"] == {
        "name": "email",
        "label": "Email",
        "type": "EMAIL",
        "custom": False,
        "required": True,
        "uniqueIdentifier": True,
        "options": None,
    }
    assert internal["plan"]["custom"] is True and internal["plan"]["options"] == ["free", "pro"]
    assert list(internal)[:7] == [
        "email",
        "first_name",
        "last_name",
        "company",
        "phone",
        "city",
        "country",
    ]


SAMPLES: list[tuple[str, dict[str, object]]] = [
    ("example", {}),
    ("example", {"requests_per_second": 2}),
    ("example", {"requests_per_second": 2.5}),
    ("example", {"requests_per_second": 0}),
    ("example", {"requests_per_second": 50}),
    ("example", {"requests_per_second": 51}),
    ("example", {"requests_per_second": "5"}),
    ("example", {"sync_deleted": True}),
    ("example", {"sync_deleted": 1}),
    ("example", {"sync_deleted": "yes"}),
    ("example", {"tags": ["a", "b"]}),
    ("example", {"tags": "a"}),
    ("example", {"tags": [1]}),
    ("example", {"region": "us"}),
    ("example", {"region": "mars"}),
    ("example", {"nope": 1}),
    ("livestorm", {"base_url": "http://127.0.0.1:9/v1"}),
    ("livestorm", {"base_url": "not a url"}),
    ("livestorm", {"quota_reserve": 2.0}),
    ("livestorm", {"quota_reserve": 1.5}),
    ("livestorm", {"quota_reserve": -1}),
    ("livestorm", {"events": ["ev-1"], "import_team_members": True}),
    ("livestorm", {"registration_push": [{"segment": "a", "session_id": "s"}]}),
    ("livestorm", {"registration_push": [{"segment": ""}]}),
    ("livestorm", {"registration_push": [{"segment": "a", "session_id": "s", "x": 1}]}),
]


async def test_the_published_settings_schema_judges_like_the_server(gql: GQL) -> None:
    validators = {}
    for name in ("example", "livestorm"):
        schema = (await gql.data(PAGE, {"name": name}))["integration"]["settingsSchema"]
        validators[name] = jsonschema.Draft202012Validator(
            schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        )
    verdicts = []
    for name, sample in SAMPLES:
        published = validators[name].is_valid(sample)
        doc = await gql.data(CONFIGURE, {"input": {"name": name, "settings": sample}})
        errors = doc["configureIntegration"]["userErrors"]
        server = not errors
        verdicts.append((name, sample, published, server))
        if errors:
            assert errors[0]["code"] == "INVALID" and errors[0]["field"][:2] == [
                "input",
                "settings",
            ]
    disagreements = [v for v in verdicts if v[2] != v[3]]
    assert disagreements == []
    assert {v[3] for v in verdicts} == {True, False}  # both verdicts occur
