"""Points over GraphQL: history, group scores, point actions and adjustments."""

from __future__ import annotations

import base64
from typing import Any

from sqlalchemy import event

from leadbridge import CoreContainer

from .conftest import GQL


def gid(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


ADJUST = (
    "mutation($id: ID!, $delta: Int!, $reason: String!, $group: String) { "
    "adjustPoints(contactId: $id, delta: $delta, reason: $reason, group: $group) { "
    "points contact { points groupScores { group points } } userErrors { field message code } } }"
)
CREATE = (
    "mutation($input: CreatePointActionInput!) { createPointAction(input: $input) { "
    "pointAction { id name type delta settings group repeatable published } "
    "userErrors { field message code } } }"
)
UPDATE = (
    "mutation($input: UpdatePointActionInput!) { updatePointAction(input: $input) { "
    "pointAction { id name delta settings group published } userErrors { field message code } } }"
)


async def test_adjust_points_and_read_the_history(gql: GQL, container: CoreContainer) -> None:
    contact = await container.contact_service().create("ann@x.io")
    await container.points_service().create_group("webinars")
    cid = gid("Contact", contact.id)
    for delta in (5, 7, -2):
        payload = (await gql.data(ADJUST, {"id": cid, "delta": delta, "reason": f"r{delta}"}))[
            "adjustPoints"
        ]
        assert payload["userErrors"] == []
    assert payload["points"] == 10 and payload["contact"]["points"] == 10
    payload = (
        await gql.data(ADJUST, {"id": cid, "delta": 3, "reason": "attended", "group": "webinars"})
    )["adjustPoints"]
    assert payload["points"] == 3
    assert payload["contact"]["groupScores"] == [{"group": "webinars", "points": 3}]

    query = (
        "query($id: ID!, $after: String) { node(id: $id) { ... on Contact { "
        "pointHistory(first: 3, after: $after) { totalCount pageInfo { hasNextPage endCursor } "
        "nodes { delta reason group actionId } } } } }"
    )
    first = (await gql.data(query, {"id": cid}))["node"]["pointHistory"]
    assert first["totalCount"] == 4 and first["pageInfo"]["hasNextPage"] is True
    assert [n["delta"] for n in first["nodes"]] == [3, -2, 7]
    assert first["nodes"][0] == {
        "delta": 3,
        "reason": "attended",
        "group": "webinars",
        "actionId": None,
    }
    rest = (await gql.data(query, {"id": cid, "after": first["pageInfo"]["endCursor"]}))["node"]
    assert [n["delta"] for n in rest["pointHistory"]["nodes"]] == [5]
    assert rest["pointHistory"]["pageInfo"]["hasNextPage"] is False


async def test_adjust_points_user_errors(gql: GQL, container: CoreContainer) -> None:
    contact = await container.contact_service().create("ann@x.io")
    cid = gid("Contact", contact.id)

    async def errors(**variables: Any) -> list[dict[str, Any]]:
        args = {"id": cid, "delta": 1, "reason": "r", **variables}
        payload = (await gql.data(ADJUST, args))["adjustPoints"]
        assert payload["points"] is None and payload["contact"] is None
        result: list[dict[str, Any]] = payload["userErrors"]
        return result

    [missing] = await errors(id=gid("Contact", contact.id + 1000))
    assert missing["code"] == "NOT_FOUND" and missing["field"] == ["contactId"]
    [group] = await errors(group="nope")
    assert group["field"] == ["group"] and "nope" in group["message"]
    [blank] = await errors(reason="  ")
    assert blank["field"] == ["reason"] and blank["code"] == "INVALID"
    [bad_id] = await errors(id="bm9wZQ==")
    assert bad_id["field"] == ["contactId"]
    assert (await container.contact_service().get(contact.id)).points == 0


async def test_create_and_update_point_actions(gql: GQL, container: CoreContainer) -> None:
    await container.points_service().create_group("tags")
    created = (
        await gql.data(
            CREATE,
            {
                "input": {
                    "name": "Tagged VIP",
                    "type": "contact.tag_added",
                    "delta": 10,
                    "settings": {"tag": "VIP"},
                    "group": "tags",
                }
            },
        )
    )["createPointAction"]
    assert created["userErrors"] == []
    action = created["pointAction"]
    assert action["type"] == "contact.tag_added" and action["group"] == "tags"
    assert action["settings"]["tag"] == "vip"

    # the action awards when a contact is tagged through the API
    contact = await container.contact_service().create("ann@x.io")
    tagged = await gql.data(
        'mutation($id: ID!) { tagContact(input: {id: $id, tags: ["vip"]}) { contact { id } } }',
        {"id": gid("Contact", contact.id)},
    )
    assert tagged["tagContact"]["contact"] is not None
    scores = await gql.data(
        "query($id: ID!) { node(id: $id) { ... on Contact { points groupScores { group points } "
        "pointHistory { nodes { delta actionId } } } } }",
        {"id": gid("Contact", contact.id)},
    )
    assert scores["node"]["groupScores"] == [{"group": "tags", "points": 10}]
    assert scores["node"]["pointHistory"]["nodes"][0] == {"delta": 10, "actionId": action["id"]}

    updated = (
        await gql.data(
            UPDATE, {"input": {"id": action["id"], "delta": 4, "group": None, "published": False}}
        )
    )["updatePointAction"]
    assert updated["userErrors"] == []
    assert updated["pointAction"]["delta"] == 4 and updated["pointAction"]["group"] is None
    assert updated["pointAction"]["published"] is False
    assert updated["pointAction"]["name"] == "Tagged VIP"
    listed = await gql.data("{ pointActions { id delta } }")
    assert listed["pointActions"] == [{"id": action["id"], "delta": 4}]
    node = await gql.data(
        "query($id: ID!) { node(id: $id) { ... on PointAction { name } } }", {"id": action["id"]}
    )
    assert node["node"] == {"name": "Tagged VIP"}


async def test_point_action_settings_errors_are_named(gql: GQL) -> None:
    async def errors(input: dict[str, Any], mutation: str = CREATE) -> list[dict[str, Any]]:
        doc = await gql.data(mutation, {"input": input})
        payload = next(iter(doc.values()))
        assert payload["pointAction"] is None
        result: list[dict[str, Any]] = payload["userErrors"]
        return result

    base = {"name": "A", "type": "contact.tag_added", "delta": 1}
    [missing] = await errors({**base, "settings": {}})
    assert missing["field"] == ["input", "settings", "tag"] and missing["code"] == "INVALID"
    assert "settings.tag" in missing["message"]
    [unknown] = await errors({**base, "type": "nope.nothing"})
    assert unknown["field"] == ["input", "type"] and "nope.nothing" in unknown["message"]
    [not_object] = await errors({**base, "settings": [1]})
    assert not_object["field"] == ["input", "settings"]
    [absent] = await errors({"id": gid("PointAction", 999), "delta": 2}, UPDATE)
    assert absent["code"] == "NOT_FOUND"
    [wrong] = await errors({"id": gid("Contact", 1), "delta": 2}, UPDATE)
    assert wrong["field"] == ["input", "id"]


async def test_group_scores_are_batched(gql: GQL, container: CoreContainer) -> None:
    points = container.points_service()
    await points.create_group("g")
    ids = []
    for i in range(12):
        contact = await container.contact_service().create(f"c{i}@x.io")
        await points.adjust(contact.id, i + 1, "seed", group="g")
        ids.append(contact.id)
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = container.engine().sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        data = await gql.data("{ contacts(first: 12) { nodes { email groupScores { points } } } }")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert sorted(n["groupScores"][0]["points"] for n in data["contacts"]["nodes"]) == list(
        range(1, 13)
    )
    assert sum("point_group_scores" in s for s in statements) == 1
