"""The webhook receiver: signatures, freshness, dedupe, each event applied; over real HTTP."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from leadbridge import CoreContainer, db
from leadbridge.contacts import ContactChangeRow, ContactRow, ContactService
from leadbridge.events import EventBus
from leadbridge_livestorm import (
    URL_SECRET_CREDENTIAL,
    RegistrationChange,
    RegistrationRow,
    SessionRow,
    WebhookDeliveryRow,
    WebhookNotConfiguredError,
    WebhookReceiver,
    WebhookResult,
    WebhookSignatureError,
    new_url_secret,
    read_delivery,
    sign_webhook,
    signature_header_value,
    url_secret_digest,
    verify_signature,
    webhook_app,
)
from leadbridge_livestorm.testing import (
    FakeLivestorm,
    LoopbackServer,
    RegistrationRecord,
    SessionRecord,
    Workspace,
)

from .conftest import run_queued_webhooks


class Hooks:
    def __init__(self) -> None:
        self.changes: list[RegistrationChange] = []
        self.ended: list[str] = []
        self.fail_changes = False

    async def on_changes(self, changes: Sequence[RegistrationChange], db: AsyncSession) -> None:
        if self.fail_changes:
            raise RuntimeError("a point action broke")
        self.changes.extend(changes)

    async def on_session_ended(self, session_id: str) -> None:
        self.ended.append(session_id)


@pytest.fixture
def hooks() -> Hooks:
    return Hooks()


@pytest.fixture
def receiver(container: CoreContainer, fake: FakeLivestorm, hooks: Hooks) -> WebhookReceiver:
    return WebhookReceiver(
        secret=fake.webhook_secret,
        session_factory=container.session_factory(),
        contact_service=container.contact_service(),
        on_changes=hooks.on_changes,
        on_session_ended=hooks.on_session_ended,
    )


def _past(workspace: Workspace) -> SessionRecord:
    return next(s for s in workspace.sessions.values() if s.status == "past")


def _someone(session: SessionRecord, *, attended: bool = False) -> RegistrationRecord:
    return next(
        r
        for r in session.registrations.values()
        if r.person.email and not r.person.is_team_member and r.attended == attended
    )


def _signed(
    fake: FakeLivestorm, document: dict[str, Any], *, at: float | None = None
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(document, separators=(",", ":")).encode()
    stamp = int(time.time() if at is None else at)
    return body, {"x-livestorm-signature": signature_header_value(stamp, fake.webhook_secret, body)}


async def _count(container: CoreContainer, model: Any) -> int:
    async with container.session_factory()() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _row(container: CoreContainer, session_id: str, person_id: str) -> RegistrationRow:
    async with container.session_factory()() as session:
        row = await session.scalar(
            select(RegistrationRow).where(
                RegistrationRow.session_id == session_id, RegistrationRow.person_id == person_id
            )
        )
    assert row is not None
    return row


# -- signatures -------------------------------------------------------------------------------


async def test_a_signed_delivery_is_accepted(
    container: CoreContainer, fake: FakeLivestorm, receiver: WebhookReceiver, workspace: Workspace
) -> None:
    session = _past(workspace)
    registration = _someone(session, attended=True)
    body, headers = _signed(
        fake,
        fake.webhook_payload(
            "people.attended", session_id=session.id, person_id=registration.person.id
        ),
    )

    result = await receiver.handle(body, headers)

    assert (result.status_code, result.outcome, result.event) == (200, "applied", "people.attended")
    assert await _count(container, WebhookDeliveryRow) == 1


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda h, b: {}, "header is missing"),
        (lambda h, b: {"x-livestorm-signature": "garbage"}, "is not '<unix seconds>,<64 hex>'"),
        (
            lambda h, b: {
                "x-livestorm-signature": signature_header_value(int(time.time()), "x", b)
            },
            "does not match",
        ),
        (
            lambda h, b: {
                "x-livestorm-signature": h["x-livestorm-signature"].split(",")[0] + "," + "0" * 64
            },
            "does not match",
        ),
    ],
    ids=["missing", "malformed", "wrong-secret", "wrong-hash"],
)
async def test_a_bad_signature_is_refused_and_nothing_is_written(
    container: CoreContainer,
    fake: FakeLivestorm,
    receiver: WebhookReceiver,
    workspace: Workspace,
    mangle: Any,
    message: str,
) -> None:
    session = _past(workspace)
    person_id = _someone(session).person.id
    payload = fake.webhook_payload("people.registered", session_id=session.id, person_id=person_id)
    body, headers = _signed(fake, payload)

    result = await receiver.handle(body, mangle(headers, body))

    assert (result.status_code, result.outcome) == (401, "unauthorized")
    assert message in result.detail
    assert await _count(container, WebhookDeliveryRow) == 0
    assert await _count(container, RegistrationRow) == 0


async def test_a_tampered_body_is_refused(
    fake: FakeLivestorm, receiver: WebhookReceiver, workspace: Workspace
) -> None:
    session = _past(workspace)
    person_id = _someone(session).person.id
    payload = fake.webhook_payload("people.attended", session_id=session.id, person_id=person_id)
    body, headers = _signed(fake, payload)

    result = await receiver.handle(body.replace(b'"attended":false', b'"attended":true'), headers)

    assert result.status_code == 401


@pytest.mark.parametrize(("offset", "word"), [(-301, "ago"), (+301, "in the future")])
async def test_a_stale_or_future_timestamp_is_refused(
    container: CoreContainer,
    fake: FakeLivestorm,
    receiver: WebhookReceiver,
    workspace: Workspace,
    offset: int,
    word: str,
) -> None:
    session = _past(workspace)
    person_id = _someone(session).person.id
    payload = fake.webhook_payload("people.attended", session_id=session.id, person_id=person_id)
    body, headers = _signed(fake, payload, at=time.time() + offset)
    _, fresh = _signed(fake, payload, at=time.time() - 290)

    refused = await receiver.handle(body, headers)
    accepted = await receiver.handle(body, fresh)

    assert refused.status_code == 401 and word in refused.detail
    assert accepted.status_code == 200  # inside the 5-minute window


async def test_the_tolerance_window_is_configurable(
    container: CoreContainer, fake: FakeLivestorm, workspace: Workspace
) -> None:
    strict = WebhookReceiver(
        secret=lambda: fake.webhook_secret,
        session_factory=container.session_factory(),
        contact_service=container.contact_service(),
        tolerance=timedelta(seconds=10),
    )
    session = _past(workspace)
    payload = fake.webhook_payload(
        "people.attended", session_id=session.id, person_id=_someone(session).person.id
    )
    body, headers = _signed(fake, payload, at=time.time() - 60)

    assert (await strict.handle(body, headers)).status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"meta": {}}',
        b'{"data": {"id": "x"}}',
        b'{"data":' * 5000 + b"1" + b"}" * 5000,
    ],
    ids=["not-json", "a-list", "no-data", "no-type", "nested-5000-deep"],
)
async def test_a_malformed_body_is_a_400(
    container: CoreContainer, fake: FakeLivestorm, receiver: WebhookReceiver, body: bytes
) -> None:
    headers = {
        "x-livestorm-signature": signature_header_value(int(time.time()), fake.webhook_secret, body)
    }

    result = await receiver.handle(body, headers)

    assert (result.status_code, result.outcome) == (400, "invalid")
    assert await _count(container, WebhookDeliveryRow) == 0


async def test_the_secret_is_never_logged(
    fake: FakeLivestorm,
    receiver: WebhookReceiver,
    workspace: Workspace,
    no_secrets_logged: set[str],
) -> None:
    no_secrets_logged.add(fake.webhook_secret)
    body = b'{"data": {"type": "people", "id": "x", "attributes": {}}}'

    await receiver.handle(body, {"x-livestorm-signature": f"{int(time.time())},{'a' * 64}"})
    await receiver.handle(b"{}", {})

    assert fake.webhook_secret not in repr(receiver)


# -- the documented scheme, as fixed vectors ----------------------------------------------------
# sha256_hex(timestamp + secret + raw_body), written down once with coreutils
# (`printf '%s' '<timestamp><secret><body>' | sha256sum`), not recomputed by these tests.

SIGNED_VECTORS = [
    (
        1688725648,
        "s3cr3t-from-the-docs",
        b'{"data":{"type":"sessions","id":"0abbcb51","attributes":{"status":"past"},'
        b'"meta":{"webhook":{"event":"session.ended"}}}}',
        "2a4459fa64e2205121a7e3ee340798a625f50a6c368fdd8ceb3db199230e10d3",
    ),
    (
        1700000000,
        "another-secret",
        b"{}",
        "92ccd783deab6f83694887c3b5923ee80a74a14121128cc1636e45355d343f19",
    ),
]
#: sha256_hex("1700000000" + "" + body): what anyone can compute with an empty secret.
FORGED_BODY = b'{"data":{"type":"people","id":"x","attributes":{}}}'
FORGED_WITH_EMPTY_KEY = (
    "1700000000,e4a3de2c990ff4ae0b6df9223fa7cd30857f5c509ad90bcae9a3935433337ace"
)


@pytest.mark.parametrize(("stamp", "secret", "body", "signature"), SIGNED_VECTORS)
def test_signatures_match_the_documented_scheme(
    stamp: int, secret: str, body: bytes, signature: str
) -> None:
    assert sign_webhook(stamp, secret, body) == signature
    assert verify_signature(body, f"{stamp},{signature}", secret, now=stamp + 10) == stamp
    assert verify_signature(body, f"{stamp},{signature.upper()}", secret, now=stamp) == stamp
    with pytest.raises(WebhookSignatureError, match="does not match"):
        verify_signature(body + b" ", f"{stamp},{signature}", secret, now=stamp)


def test_an_empty_key_never_signs_nor_verifies() -> None:
    with pytest.raises(ValueError, match="non-empty secret"):
        sign_webhook(1700000000, "", FORGED_BODY)
    with pytest.raises(WebhookNotConfiguredError, match="no Livestorm webhook secret"):
        verify_signature(FORGED_BODY, FORGED_WITH_EMPTY_KEY, "", now=1700000000)


def _forged(document: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """A body signed with the empty secret, as an attacker computes it (no code of ours)."""
    body = json.dumps(document).encode()
    stamp = int(time.time())
    digest = hashlib.sha256(str(stamp).encode() + body).hexdigest()
    return body, {"x-livestorm-signature": f"{stamp},{digest}"}


@pytest.mark.parametrize("state", ["never-configured", "api-token-only"])
async def test_without_a_webhook_secret_every_delivery_is_refused(
    container: CoreContainer, fake: FakeLivestorm, workspace: Workspace, state: str
) -> None:
    if state == "api-token-only":  # `configure livestorm --secret api_token=… --enable`
        await container.integration_settings_service().configure(
            "livestorm",
            settings={"base_url": fake.base_url},
            credentials={"api_token": fake.token},
            enabled=True,
        )
    app = container.integration_registry().get("livestorm").webhook_app()
    session = _past(workspace)
    registration = _someone(session, attended=True)
    people = fake.webhook_payload(
        "people.attended", session_id=session.id, person_id=registration.person.id
    )
    ended = fake.webhook_payload("session.ended", session_id=session.id)
    transport = httpx.ASGITransport(app=app, root_path="/webhooks/livestorm")
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
        answers = []
        for path in ("/webhooks/livestorm", "/webhooks/livestorm/"):
            for document in (people, ended):
                body, headers = _forged(document)
                answers.append(await http.post(path, content=body, headers=headers))
        unsigned = await http.post("/webhooks/livestorm", content=json.dumps(people).encode())

    assert [a.status_code for a in [*answers, unsigned]] == [403] * 5
    assert {a.json()["outcome"] for a in answers} == {"not_configured"}
    assert "no Livestorm webhook secret is stored" in answers[0].json()["detail"]
    assert await _count(container, WebhookDeliveryRow) == 0
    assert await _count(container, RegistrationRow) == 0
    assert await _count(container, ContactRow) == 0
    assert await _count(container, SessionRow) == 0


# -- event names: data.meta.webhook.event ------------------------------------------------------
# Documented shapes, written by us: the name sits in the resource's meta.


def _documented(kind: str, attributes: dict[str, Any], event: str | None) -> bytes:
    data: dict[str, Any] = {"id": "0abbcb51-1", "type": kind, "attributes": attributes}
    if event is not None:
        data["meta"] = {"webhook": {"event": event}}
    return json.dumps({"data": data}).encode()


@pytest.mark.parametrize(
    ("body", "event"),
    [
        (_documented("people", {"role": "participant"}, "people.attended"), "people.attended"),
        (_documented("people", {}, "people.not_attended"), "people.not_attended"),
        (_documented("people", {}, "people.watched_replay"), "people.watched_replay"),
        (_documented("sessions", {"status": "past"}, "session.ended"), "session.ended"),
        (_documented("events", {"title": "Demo"}, "event.published"), "event.published"),
        (
            b'{"data":{"id":"s","type":"sessions","attributes":{}},"meta":{"event":"session.ended"}}',
            "session.ended",
        ),
        # Livestorm's Webhooks app names no event: judged by the resource.
        (_documented("people", {}, None), "people.registered"),
        (_documented("sessions", {"status": "past"}, None), "session.ended"),
        (_documented("sessions", {"status": "live"}, None), "sessions.updated"),
    ],
    ids=[
        "attended",
        "not-attended",
        "replay",
        "session-ended",
        "event-published",
        "top-level-meta",
        "unnamed-person",
        "unnamed-past-session",
        "unnamed-live-session",
    ],
)
def test_the_event_name_is_read_where_livestorm_puts_it(body: bytes, event: str) -> None:
    assert read_delivery(body).event == event


# -- a secret URL for unsigned deliveries ------------------------------------------------------


def test_url_secrets_are_long_random_and_stored_as_a_digest() -> None:
    first, second = new_url_secret(), new_url_secret()

    assert len(first) >= 43 and first != second
    assert url_secret_digest(URL_SECRET) == (
        "d81c5b2fda0c852df7d51147a7d4a97913f91537aa21821cf180ac9a7f747a91"  # sha256sum
    )


async def test_an_unsigned_delivery_to_the_secret_url_is_applied_once(
    container: CoreContainer, fake: FakeLivestorm, served: LoopbackServer, workspace: Workspace
) -> None:
    base = served.url + "/webhooks/livestorm"
    fake.subscribe(f"{base}/{URL_SECRET}", ["people.attended"], signed=False)
    fake.subscribe(f"{base}/{URL_SECRET[:-1]}x", ["session.ended"], signed=False)
    fake.subscribe(base, ["people.not_attended"], signed=False)
    session = _past(workspace)
    registration = _someone(session, attended=True)
    absent = _someone(session, attended=False)

    (applied,) = await fake.deliver(
        "people.attended", session_id=session.id, person_id=registration.person.id
    )
    replayed = await fake.redeliver(applied)
    (wrong,) = await fake.deliver("session.ended", session_id=session.id)
    (unsigned_on_signed_route,) = await fake.deliver(
        "people.not_attended", session_id=session.id, person_id=absent.person.id
    )
    async with httpx.AsyncClient() as http:
        deeper = await http.post(f"{base}/{URL_SECRET}/more", content=applied.body)

    assert (applied.status_code, replayed.status_code) == (200, 200)
    assert wrong.status_code == 404
    assert unsigned_on_signed_route.status_code == 401
    assert deeper.status_code == 404
    row = await _row(container, session.id, registration.person.id)
    assert row.attended and row.contact_id is not None
    assert await _count(container, WebhookDeliveryRow) == 1  # the replay was not applied again
    assert await _count(container, RegistrationRow) == 1


async def test_a_signature_on_the_secret_url_is_still_checked(
    container: CoreContainer, fake: FakeLivestorm, served: LoopbackServer, workspace: Workspace
) -> None:
    url = f"{served.url}/webhooks/livestorm/{URL_SECRET}"
    fake.subscribe(url, ["session.ended"])  # made through the API: signed
    session = _past(workspace)

    (good,) = await fake.deliver("session.ended", session_id=session.id)
    fake.webhook_secret = "someone-else"
    forged = await fake.redeliver(good)

    assert good.status_code == 200
    assert forged.status_code == 401  # the URL secret does not excuse a wrong signature


async def test_the_gateway_route_reads_the_stored_url_secret(
    container: CoreContainer, fake: FakeLivestorm, workspace: Workspace
) -> None:
    secret = new_url_secret()
    await container.integration_settings_service().configure(
        "livestorm", credentials={URL_SECRET_CREDENTIAL: url_secret_digest(secret)}
    )
    app = container.integration_registry().get("livestorm").webhook_app()
    session = _past(workspace)
    body = json.dumps(fake.webhook_payload("session.ended", session_id=session.id)).encode()
    transport = httpx.ASGITransport(app=app, root_path="/webhooks/livestorm")
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
        accepted = await http.post(f"/webhooks/livestorm/{secret}", content=body)
        wrong = await http.post(f"/webhooks/livestorm/{new_url_secret()}", content=body)
        signed_route = await http.post("/webhooks/livestorm/", content=body)

    queued = container.job_queue().available  # PostgreSQL: a worker applies it
    expected = (202, "queued") if queued else (200, "applied")
    assert (accepted.status_code, accepted.json()["outcome"]) == expected
    assert wrong.status_code == 404
    assert signed_route.status_code == 403  # still no webhook secret: signed route refused
    await run_queued_webhooks(container.job_queue())
    async with container.session_factory()() as db_session:
        row = await db_session.get(SessionRow, session.id)
    assert row is not None and row.pull_requested_at is not None


# -- dedupe -----------------------------------------------------------------------------------


async def test_a_redelivery_is_applied_once(
    container: CoreContainer,
    fake: FakeLivestorm,
    receiver: WebhookReceiver,
    hooks: Hooks,
    workspace: Workspace,
) -> None:
    session = _past(workspace)
    registration = _someone(session, attended=True)
    payload = fake.webhook_payload(
        "people.attended", session_id=session.id, person_id=registration.person.id
    )
    body, first = _signed(fake, payload)
    _, retry = _signed(fake, payload, at=time.time() + 30)  # re-signed, as Livestorm retries

    results = [await receiver.handle(body, first), await receiver.handle(body, retry)]

    assert [(r.status_code, r.outcome) for r in results] == [(200, "applied"), (200, "duplicate")]
    assert len(hooks.changes) == 1
    assert await _count(container, WebhookDeliveryRow) == 1
    assert await _count(container, RegistrationRow) == 1
    assert await _count(container, ContactRow) == 1


async def test_a_failed_delivery_keeps_nothing_so_the_retry_applies_it(
    container: CoreContainer,
    fake: FakeLivestorm,
    receiver: WebhookReceiver,
    hooks: Hooks,
    workspace: Workspace,
) -> None:
    session = _past(workspace)
    payload = fake.webhook_payload(
        "people.registered", session_id=session.id, person_id=_someone(session).person.id
    )
    body, headers = _signed(fake, payload)
    hooks.fail_changes = True

    failed = await receiver.handle(body, headers)
    hooks.fail_changes = False
    retried = await receiver.handle(body, headers)

    assert (failed.status_code, failed.outcome) == (500, "error")
    assert "broke" not in failed.detail  # no internals in the answer
    assert (retried.status_code, retried.outcome) == (200, "applied")
    assert await _count(container, WebhookDeliveryRow) == 1


# -- each event -------------------------------------------------------------------------------


async def _deliver(
    receiver: WebhookReceiver, fake: FakeLivestorm, event: str, **ids: str
) -> WebhookResult:
    body, headers = _signed(fake, fake.webhook_payload(event, **ids))
    result = await receiver.handle(body, headers)
    assert result.status_code == 200, result
    return result


async def test_a_registration_then_attendance_then_the_replay(
    container: CoreContainer,
    fake: FakeLivestorm,
    receiver: WebhookReceiver,
    hooks: Hooks,
    workspace: Workspace,
) -> None:
    session = workspace.add_session(next(iter(workspace.events)))
    person = workspace.add_person("newbie@example.com", first_name="New", last_name="Bie")
    workspace.register(session.id, person, answers={"company": "Globex"}, utm_source="linkedin")
    ids = {"session_id": session.id, "person_id": person.id}

    registered = await _deliver(receiver, fake, "people.registered", **ids)
    row = await _row(container, session.id, person.id)
    async with container.session_factory()() as db_session:
        contact = await db_session.get(ContactRow, row.contact_id)
        created_by = await db_session.scalar(
            select(ContactChangeRow.source).where(ContactChangeRow.contact_id == row.contact_id)
        )
        stub = await db_session.get(SessionRow, session.id)
    assert registered.outcome == "applied" and registered.contact_id == row.contact_id
    assert contact is not None and contact.email == "newbie@example.com"
    assert (contact.first_name, contact.last_name, contact.company) == ("New", "Bie", "Globex")
    assert created_by == "livestorm"
    assert row.utm_source == "linkedin" and not row.attended
    assert stub is not None and stub.pull_requested_at is not None  # unknown session: pull it
    assert [c.newly_registered for c in hooks.changes] == [True]

    fake.advance(3600)
    workspace.end_session(session.id)
    workspace.set_attendance(session.id, person.id, attendance_rate=75, questions_count=1)
    await _deliver(receiver, fake, "people.attended", **ids)
    row = await _row(container, session.id, person.id)
    assert row.attended and row.attendance_rate == 75 and row.questions_count == 1
    assert hooks.changes[-1].newly_attended and hooks.changes[-1].new_questions == 1

    fake.advance(3600)
    workspace.mark_replay_viewed(session.id, person.id)
    await _deliver(receiver, fake, "people.watched_replay", **ids)
    row = await _row(container, session.id, person.id)
    assert row.has_viewed_replay
    assert row.replay_watched_at == datetime.fromtimestamp(fake.clock, UTC)
    assert hooks.changes[-1].newly_watched_replay
    assert len(hooks.changes) == 3
    assert await _count(container, ContactRow) == 1


async def test_not_attended_is_recorded(
    container: CoreContainer, fake: FakeLivestorm, receiver: WebhookReceiver, workspace: Workspace
) -> None:
    session = _past(workspace)
    registration = _someone(session, attended=False)

    result = await _deliver(
        receiver,
        fake,
        "people.not_attended",
        session_id=session.id,
        person_id=registration.person.id,
    )

    row = await _row(container, session.id, registration.person.id)
    assert result.outcome == "applied"
    assert not row.attended and row.attendance_rate is None


async def test_the_event_name_wins_over_the_payloads_snapshot(
    container: CoreContainer, fake: FakeLivestorm, receiver: WebhookReceiver, workspace: Workspace
) -> None:
    session = _past(workspace)
    registration = _someone(session, attended=False)
    payload = fake.webhook_payload(
        "people.attended", session_id=session.id, person_id=registration.person.id
    )  # the payload still says attended: false

    body, headers = _signed(fake, payload)
    await receiver.handle(body, headers)

    assert (await _row(container, session.id, registration.person.id)).attended


async def test_an_existing_contact_is_matched_by_email_and_left_alone(
    container: CoreContainer, fake: FakeLivestorm, receiver: WebhookReceiver, workspace: Workspace
) -> None:
    session = _past(workspace)
    registration = _someone(session)
    email = (registration.person.email or "").upper()
    contact = await container.contact_service().create(email, first_name="Kept")

    result = await _deliver(
        receiver,
        fake,
        "people.registered",
        session_id=session.id,
        person_id=registration.person.id,
    )

    stored = await container.contact_service().get(contact.id)
    assert result.contact_id == contact.id
    assert stored.first_name == "Kept"  # the sync, not a webhook, updates contact fields
    assert await _count(container, ContactRow) == 1


async def test_a_team_member_is_recorded_without_a_contact(
    container: CoreContainer, fake: FakeLivestorm, receiver: WebhookReceiver, workspace: Workspace
) -> None:
    session = _past(workspace)
    host = next(r for r in session.registrations.values() if r.person.is_team_member)

    result = await _deliver(
        receiver, fake, "people.attended", session_id=session.id, person_id=host.person.id
    )

    row = await _row(container, session.id, host.person.id)
    assert result.outcome == "applied" and result.contact_id is None
    assert row.contact_id is None and row.role == "team_member"
    assert await _count(container, ContactRow) == 0


async def test_session_ended_flags_the_session_for_a_pull(
    container: CoreContainer,
    fake: FakeLivestorm,
    receiver: WebhookReceiver,
    hooks: Hooks,
    workspace: Workspace,
) -> None:
    session = _past(workspace)

    result = await _deliver(receiver, fake, "session.ended", session_id=session.id)

    async with container.session_factory()() as db_session:
        row = await db_session.get(SessionRow, session.id)
    assert (result.outcome, result.session_id) == ("applied", session.id)
    assert row is not None and row.pull_requested_at is not None
    assert row.status == "past" and row.duration == session.duration
    assert hooks.ended == [session.id]


async def test_a_failing_session_ended_hook_does_not_fail_the_delivery(
    container: CoreContainer, fake: FakeLivestorm, workspace: Workspace
) -> None:
    async def broken(session_id: str) -> None:
        raise RuntimeError("scheduler down")

    receiver = WebhookReceiver(
        secret=fake.webhook_secret,
        session_factory=container.session_factory(),
        contact_service=container.contact_service(),
        on_session_ended=broken,
    )

    result = await _deliver(receiver, fake, "session.ended", session_id=_past(workspace).id)

    assert result.outcome == "applied"


async def test_other_events_are_acknowledged_and_ignored(
    container: CoreContainer, fake: FakeLivestorm, receiver: WebhookReceiver, workspace: Workspace
) -> None:
    result = await _deliver(receiver, fake, "event.created", event_id=next(iter(workspace.events)))

    assert (result.status_code, result.outcome) == (200, "ignored")
    assert await _count(container, WebhookDeliveryRow) == 0


# -- the ASGI app, over real HTTP -------------------------------------------------------------


class ServedReceiver:
    """The receiver as the gateway would mount it, with its own engine in the server's loop."""

    def __init__(self, database_url: str, secret: str, url_secret_digest: str | None) -> None:
        self.database_url = database_url
        self.secret = secret
        self.url_secret_digest = url_secret_digest
        self.app: ASGIApp | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.engine: Any = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.app is None:
            self.loop = asyncio.get_running_loop()
            self.engine = db.create_engine(self.database_url)
            factory = db.create_session_factory(self.engine)
            receiver = WebhookReceiver(
                secret=self.secret,
                url_secret_digest=self.url_secret_digest,
                session_factory=factory,
                contact_service=ContactService(session_factory=factory, event_bus=EventBus()),
            )
            self.app = webhook_app(receiver)
        await self.app(scope, receive, send)

    def close(self) -> None:
        if self.loop is not None:
            asyncio.run_coroutine_threadsafe(self.engine.dispose(), self.loop).result(10)


class AtRoot:
    """Hands requests on with ``root_path`` set to the mount point, as the gateway does."""

    def __init__(self, app: ASGIApp, root_path: str) -> None:
        self.app = app
        self.root_path = root_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app({**scope, "root_path": self.root_path}, receive, send)


#: The URL secret of the served receiver (a test value: real ones come from new_url_secret()).
URL_SECRET = "K7gNU3sdo-OL0wNhqoVWhr3g6s1xYv72ol_pe_Unols"


@pytest.fixture
def served(fake: FakeLivestorm, database_url: str) -> Iterator[LoopbackServer]:
    receiver = ServedReceiver(database_url, fake.webhook_secret, url_secret_digest(URL_SECRET))
    mounted = AtRoot(receiver, "/webhooks/livestorm")
    app = Starlette(
        routes=[
            Route("/webhooks/livestorm", mounted),
            Route("/webhooks/livestorm/{rest:path}", mounted),
        ]
    )
    with LoopbackServer(app) as server:
        try:
            yield server
        finally:
            receiver.close()


async def test_deliveries_over_http_get_2xx_once_applied_and_401_when_forged(
    container: CoreContainer, fake: FakeLivestorm, served: LoopbackServer, workspace: Workspace
) -> None:
    url = served.url + "/webhooks/livestorm"
    fake.subscribe(url, ["people.attended", "session.ended"])
    session = _past(workspace)
    registration = _someone(session, attended=True)

    delivered = await fake.deliver(
        "people.attended", session_id=session.id, person_id=registration.person.id
    )
    again = await fake.redeliver(delivered[0])
    ended = await fake.deliver("session.ended", session_id=session.id)
    fake.webhook_secret = "someone-else"
    forged = await fake.deliver("session.ended", session_id=session.id)
    async with httpx.AsyncClient() as http:
        malformed = await http.post(
            url,
            content=b"{oops",
            headers={
                "x-livestorm-signature": signature_header_value(
                    int(time.time()), "fake-livestorm-webhook-secret", b"{oops"
                )
            },
        )

    assert [d.status_code for d in delivered] == [200]
    assert again.status_code == 200
    assert [d.status_code for d in ended] == [200]
    assert [d.status_code for d in forged] == [401]
    assert malformed.status_code == 400 and malformed.json()["outcome"] == "invalid"
    row = await _row(container, session.id, registration.person.id)
    assert row.attended and row.contact_id is not None
    assert await _count(container, WebhookDeliveryRow) == 2  # attended once, ended once


async def test_an_oversized_body_is_refused(fake: FakeLivestorm, served: LoopbackServer) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(served.url + "/webhooks/livestorm", content=b"x" * 1_100_000)

    assert response.status_code == 413
