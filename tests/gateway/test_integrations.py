from __future__ import annotations

import json

import httpx

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
