from __future__ import annotations

from typing import Any

from leadbridge import CoreContainer, Scope

from .conftest import GQL, MakeToken, codes

CITY_LYON = [{"field": "city", "operator": "=", "value": "Lyon"}]


async def _contacts(container: CoreContainer, n: int = 3) -> list[int]:
    service = container.contact_service()
    ids = []
    for i in range(n):
        city = "Lyon" if i % 2 == 0 else "Paris"
        ids.append((await service.create(f"c{i}@x.io", city=city, tags=["t"])).id)
    return ids


CREATE = """
mutation($input: CreateSegmentInput!) {
  createSegment(input: $input) {
    segment { id alias name filters memberCount lastBuiltAt }
    userErrors { field message code }
  }
}
"""


async def _create(gql: GQL, alias: str = "lyon", filters: Any = CITY_LYON) -> dict[str, Any]:
    data = await gql.data(CREATE, {"input": {"name": alias, "alias": alias, "filters": filters}})
    payload: dict[str, Any] = data["createSegment"]
    return payload


async def test_create_rebuild_read_members_and_contact_segments(
    gql: GQL, container: CoreContainer
) -> None:
    ids = await _contacts(container, 5)
    created = await _create(gql)
    assert created["userErrors"] == []
    segment = created["segment"]
    assert segment["memberCount"] == 0 and segment["lastBuiltAt"] is None
    rebuilt = await gql.data(
        "mutation($id: ID!) { rebuildSegment(input: {id: $id}) "
        "{ added removed segment { memberCount lastBuiltAt buildSeconds } userErrors { field } } }",
        {"id": segment["id"]},
    )
    payload = rebuilt["rebuildSegment"]
    assert payload["added"] == 3 and payload["removed"] == 0
    assert payload["segment"]["memberCount"] == 3
    assert payload["segment"]["lastBuiltAt"] is not None
    assert isinstance(payload["segment"]["buildSeconds"], float)

    data = await gql.data(
        '{ segment(alias: "lyon") { alias members(first: 2) { totalCount '
        "pageInfo { hasNextPage endCursor } nodes { email tags } } } }"
    )
    members = data["segment"]["members"]
    assert members["totalCount"] == 3
    assert [n["email"] for n in members["nodes"]] == ["c0@x.io", "c2@x.io"]
    assert members["nodes"][0]["tags"] == ["t"]
    after = members["pageInfo"]["endCursor"]
    data = await gql.data(
        'query($a: String) { segment(alias: "lyon") { members(first: 2, after: $a) '
        "{ nodes { email } pageInfo { hasNextPage } } } }",
        {"a": after},
    )
    assert [n["email"] for n in data["segment"]["members"]["nodes"]] == ["c4@x.io"]

    data = await gql.data(
        '{ contacts(first: 10, filter: {segment: "lyon"}) { totalCount nodes { email '
        "segments { alias } } } }"
    )
    assert data["contacts"]["totalCount"] == 3
    assert all(n["segments"] == [{"alias": "lyon"}] for n in data["contacts"]["nodes"])
    data = await gql.data(
        "query($id: ID!) { node(id: $id) { ... on Segment { alias } } }", {"id": segment["id"]}
    )
    assert data["node"] == {"alias": "lyon"}
    data = await gql.data("{ segments(first: 10) { totalCount nodes { alias memberCount } } }")
    assert data["segments"] == {"totalCount": 1, "nodes": [{"alias": "lyon", "memberCount": 3}]}
    assert len(ids) == 5


async def test_preview_counts_without_saving(gql: GQL, container: CoreContainer) -> None:
    await _contacts(container, 4)
    data = await gql.data("query($f: JSON!) { segmentPreview(filters: $f) }", {"f": CITY_LYON})
    assert data["segmentPreview"] == 2
    data = await gql.data("{ segments { totalCount } }")
    assert data["segments"]["totalCount"] == 0
    doc = await gql(
        "query($f: JSON!) { segmentPreview(filters: $f) }",
        {"f": [{"field": "nope", "operator": "=", "value": 1}]},
    )
    assert codes(doc) == ["BAD_USER_INPUT"]
    assert "nope" in doc["errors"][0]["message"]


async def test_bad_filter_is_a_user_error_naming_the_filter(gql: GQL) -> None:
    payload = await _create(
        gql, "bad", [CITY_LYON[0], {"field": "nope", "operator": "=", "value": 1}]
    )
    assert payload["segment"] is None
    [error] = payload["userErrors"]
    assert error["field"] == ["input", "filters", "1"]
    assert "nope" in error["message"] and error["code"] == "INVALID"
    data = await gql.data("{ segments { totalCount } }")
    assert data["segments"]["totalCount"] == 0


async def test_update_delete_and_manual_membership(gql: GQL, container: CoreContainer) -> None:
    ids = await _contacts(container, 3)
    segment_id = (await _create(gql))["segment"]["id"]
    contact_ids = (await gql.data("{ contacts { nodes { id } } }"))["contacts"]["nodes"]
    paris = contact_ids[1]["id"]
    data = await gql.data(
        "mutation($id: ID!, $c: [ID!]!) { addContactsToSegment(input: {id: $id, contactIds: $c})"
        " { changed segment { memberCount } userErrors { field } } }",
        {"id": segment_id, "c": [paris]},
    )
    assert data["addContactsToSegment"]["changed"] == 1
    assert data["addContactsToSegment"]["segment"]["memberCount"] == 1
    data = await gql.data(
        "mutation($id: ID!, $c: [ID!]!) { removeContactsFromSegment(input: {id: $id, "
        "contactIds: $c}) { changed userErrors { field } } }",
        {"id": segment_id, "c": [paris]},
    )
    assert data["removeContactsFromSegment"]["changed"] == 1
    data = await gql.data(
        'mutation($id: ID!) { updateSegment(input: {id: $id, name: "Lyonnais", '
        'description: "d"}) { segment { name alias description } userErrors { field } } }',
        {"id": segment_id},
    )
    assert data["updateSegment"]["segment"] == {
        "name": "Lyonnais",
        "alias": "lyon",
        "description": "d",
    }
    dup = await _create(gql, "lyon")
    assert dup["userErrors"][0]["code"] == "CONFLICT"
    assert dup["userErrors"][0]["field"] == ["input", "alias"]
    data = await gql.data(
        "mutation($id: ID!) { deleteSegment(input: {id: $id}) { deletedSegmentId "
        "userErrors { code } } }",
        {"id": segment_id},
    )
    assert data["deleteSegment"]["deletedSegmentId"] == segment_id
    data = await gql.data(
        "mutation($id: ID!) { deleteSegment(input: {id: $id}) { userErrors { code } } }",
        {"id": segment_id},
    )
    assert data["deleteSegment"]["userErrors"] == [{"code": "NOT_FOUND"}]
    assert len(ids) == 3


async def test_contact_segments_need_segments_read(
    gql: GQL, container: CoreContainer, make_token: MakeToken
) -> None:
    await _contacts(container, 1)
    token = await make_token(Scope.CONTACTS_READ)
    doc = await gql("{ contacts { nodes { email segments { alias } } } }", token=token)
    assert "FORBIDDEN" in codes(doc)
    assert "segments:read" in doc["errors"][0]["message"]
