"""Webhook subscriptions through the API, and signed deliveries to a real receiver."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from leadbridge_livestorm import WEBHOOK_SIGNATURE_HEADER, Person, Session, sign_webhook
from leadbridge_livestorm.testing import (
    WEBHOOK_EVENTS,
    FakeLivestorm,
    LoopbackServer,
    generate_workspace,
)


class Receiver:
    """A webhook receiver on loopback that keeps what it got and answers ``status``."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.status = 200

        async def hook(request: Request) -> Response:
            self.received.append((dict(request.headers), await request.body()))
            return Response(status_code=self.status)

        self.server = LoopbackServer(Starlette(routes=[Route("/hook", hook, methods=["POST"])]))

    @property
    def url(self) -> str:
        return self.server.url + "/hook"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    with receiver.server:
        yield receiver


def _verify(header: str, secret: str, body: bytes) -> int:
    """What a receiver does: split the header, recompute, compare; returns the timestamp."""
    stamp, signature = header.split(",")
    assert len(signature) == 64
    assert signature == sign_webhook(int(stamp), secret, body)
    return int(stamp)


def test_webhooks_are_created_listed_and_deleted_through_the_api(
    fresh_client: httpx.Client,
) -> None:
    body = {
        "data": {
            "type": "webhooks",
            "attributes": {"event": "people.attended", "url": "https://hooks.test/a"},
        }
    }

    created = fresh_client.post("/webhooks", json=body)
    listed = fresh_client.get("/webhooks").json()
    hook_id = created.json()["data"]["id"]
    deleted = fresh_client.delete(f"/webhooks/{hook_id}")
    again = fresh_client.delete(f"/webhooks/{hook_id}")

    assert created.status_code == 201
    assert created.json()["data"]["attributes"]["event"] == "people.attended"
    assert created.json()["data"]["attributes"]["url"] == "https://hooks.test/a"
    assert [h["id"] for h in listed["data"]] == [hook_id]
    assert listed["meta"]["record_count"] == 1
    assert (deleted.status_code, again.status_code) == (204, 404)
    assert fresh_client.get("/webhooks").json()["data"] == []


@pytest.mark.parametrize(
    "attributes",
    [
        {"event": "people.danced", "url": "https://hooks.test/a"},
        {"event": "people.attended", "url": "ftp://hooks.test/a"},
        {"event": "people.attended"},
        {"event": "people.attended", "target_url": "https://hooks.test/a"},
    ],
    ids=["unknown-event", "not-http", "no-url", "target_url-is-not-the-attribute"],
)
def test_bad_subscriptions_get_422(fresh_client: httpx.Client, attributes: dict) -> None:
    response = fresh_client.post(
        "/webhooks", json={"data": {"type": "webhooks", "attributes": attributes}}
    )

    assert response.status_code == 422


async def test_a_delivery_is_signed_and_verifiable(
    fresh_fake: FakeLivestorm, receiver: Receiver
) -> None:
    fresh_fake.subscribe(receiver.url, ["people.attended"])
    session = next(s for s in fresh_fake.workspace.sessions.values() if s.status == "past")
    registration = next(r for r in session.registrations.values() if r.attended)

    (delivery,) = await fresh_fake.deliver(
        "people.attended", session_id=session.id, person_id=registration.person.id
    )

    assert delivery.ok
    ((headers, body),) = receiver.received
    assert headers["content-type"] == "application/json"
    stamp = _verify(headers[WEBHOOK_SIGNATURE_HEADER], fresh_fake.webhook_secret, body)
    assert stamp == delivery.timestamp
    expected = hashlib.sha256(
        str(stamp).encode() + fresh_fake.webhook_secret.encode() + body
    ).hexdigest()
    assert headers[WEBHOOK_SIGNATURE_HEADER] == f"{stamp},{expected}"
    document = json.loads(body)
    assert document["data"]["meta"]["webhook"]["event"] == "people.attended"
    assert "meta" not in document
    person = Person.model_validate(document["data"])
    assert person.id == registration.person.id
    assert person.registrant_detail is not None
    assert person.registrant_detail.attended


def test_only_subscribers_of_that_event_receive_it(
    fresh_fake: FakeLivestorm, receiver: Receiver
) -> None:
    fresh_fake.subscribe(receiver.url, ["session.ended"])
    fresh_fake.subscribe(receiver.url + "?other", ["people.registered"])
    session = next(iter(fresh_fake.workspace.sessions.values()))
    fresh_fake.workspace.end_session(session.id)

    deliveries = fresh_fake.deliver_sync("session.ended", session_id=session.id)

    assert [d.event for d in deliveries] == ["session.ended"]
    ((_, body),) = receiver.received
    assert Session.model_validate(json.loads(body)["data"]).status == "past"


async def test_a_chosen_timestamp_and_a_redelivery(
    fresh_fake: FakeLivestorm, receiver: Receiver
) -> None:
    fresh_fake.subscribe(receiver.url)
    session = next(s for s in fresh_fake.workspace.sessions.values() if s.status == "past")
    person_id = next(iter(session.registrations))
    receiver.status = 500

    (stale,) = await fresh_fake.deliver(
        "people.registered", session_id=session.id, person_id=person_id, timestamp=1_000
    )
    receiver.status = 204
    retried = await fresh_fake.redeliver(stale)

    assert (stale.status_code, stale.ok) == (500, False)
    assert retried.ok
    assert retried.body == stale.body
    assert retried.timestamp > stale.timestamp == 1_000
    (first_headers, _), (second_headers, _) = receiver.received
    assert second_headers[WEBHOOK_SIGNATURE_HEADER].startswith(f"{retried.timestamp},")
    assert first_headers[WEBHOOK_SIGNATURE_HEADER].startswith("1000,")
    for headers, body in receiver.received:
        _verify(headers[WEBHOOK_SIGNATURE_HEADER], fresh_fake.webhook_secret, body)
    assert fresh_fake.deliveries == [stale, retried]


async def test_every_event_kind_has_a_payload(fresh_fake: FakeLivestorm) -> None:
    ws = fresh_fake.workspace
    session = next(s for s in ws.sessions.values() if s.status == "past")
    registration = next(iter(session.registrations.values()))
    ws.mark_replay_viewed(session.id, registration.person.id)
    ids = {
        "people": {"session_id": session.id, "person_id": registration.person.id},
        "session": {"session_id": session.id},
        "event": {"event_id": session.event_id},
    }

    payloads = {
        name: fresh_fake.webhook_payload(name, **ids[name.split(".")[0]])
        for name in WEBHOOK_EVENTS
        if not name.startswith("job.")
    }

    replay = payloads["people.watched_replay"]["data"]["attributes"]["replay_view_detail"]
    assert replay == {"watched_at": fresh_fake.clock}
    assert payloads["event.created"]["data"]["type"] == "events"
    with pytest.raises(ValueError, match="needs session_id"):
        fresh_fake.webhook_payload("session.ended")


async def test_an_unreachable_receiver_is_reported(fresh_fake: FakeLivestorm) -> None:
    with LoopbackServer(Starlette()) as gone:
        url = gone.url + "/hook"
    fresh_fake.subscribe(url, ["event.created"])
    event_id = next(iter(fresh_fake.workspace.events))

    (delivery,) = await fresh_fake.deliver("event.created", event_id=event_id)

    assert delivery.status_code is None
    assert delivery.error


async def test_a_webhooks_app_subscription_delivers_unsigned(
    fresh_fake: FakeLivestorm, receiver: Receiver
) -> None:
    fresh_fake.subscribe(receiver.url, ["session.ended"], signed=False)
    session = next(s for s in fresh_fake.workspace.sessions.values() if s.status == "past")

    (delivery,) = await fresh_fake.deliver("session.ended", session_id=session.id)
    again = await fresh_fake.redeliver(delivery)

    assert delivery.ok and again.ok
    for headers, body in receiver.received:
        assert WEBHOOK_SIGNATURE_HEADER not in headers
        assert json.loads(body)["data"]["meta"]["webhook"]["event"] == "session.ended"


@pytest.mark.parametrize("endpoint", ["events", "sessions", "people"])
def test_updated_since_can_be_ignored_per_endpoint(endpoint: str) -> None:
    workspace = generate_workspace(seed=5, people=30)
    with FakeLivestorm(workspace, rate_limit=None, ignore_updated_since={endpoint}) as fake:
        session_id = next(iter(fake.workspace.sessions))
        event_id = fake.workspace.sessions[session_id].event_id
        paths = {
            "events": "/events",
            "sessions": f"/events/{event_id}/sessions",
            "people": f"/sessions/{session_id}/people",
        }
        future = {"filter[updated_since]": str(fake.clock + 86_400)}
        with httpx.Client(base_url=fake.base_url, headers=fake.auth_headers) as http:
            counts = {
                name: len(http.get(path, params=future).json()["data"])
                for name, path in paths.items()
            }

    assert counts[endpoint] > 0  # ignored: older records come back
    assert all(count == 0 for name, count in counts.items() if name != endpoint)
