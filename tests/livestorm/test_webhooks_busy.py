"""A delivery while another process holds the write lock: 503, Retry-After, nothing kept."""

from __future__ import annotations

import json
import time

import httpx
from sqlalchemy import func, select

from leadbridge import CoreContainer, db
from leadbridge.contacts import ContactService
from leadbridge.events import EventBus
from leadbridge_livestorm import (
    RegistrationRow,
    WebhookDeliveryRow,
    WebhookReceiver,
    signature_header_value,
    webhook_app,
)
from leadbridge_livestorm.testing import FakeLivestorm, Workspace

from .._locks import impatient, write_lock_held


async def test_a_delivery_on_a_busy_database_is_503_with_retry_after_and_kept_nowhere(
    container: CoreContainer, database_url: str, fake: FakeLivestorm, workspace: Workspace
) -> None:
    engine = db.create_engine(database_url)
    impatient(engine)
    factory = db.create_session_factory(engine)
    receiver = WebhookReceiver(
        secret=fake.webhook_secret,
        session_factory=factory,
        contact_service=ContactService(session_factory=factory, event_bus=EventBus()),
    )
    session = next(s for s in workspace.sessions.values() if s.status == "past")
    person = next(r.person for r in session.registrations.values() if r.person.email)
    document = fake.webhook_payload("people.registered", session_id=session.id, person_id=person.id)
    body = json.dumps(document).encode()
    headers = {
        "x-livestorm-signature": signature_header_value(int(time.time()), fake.webhook_secret, body)
    }
    transport = httpx.ASGITransport(app=webhook_app(receiver))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as client:
            async with write_lock_held(database_url, WebhookDeliveryRow.__tablename__):
                busy = await client.post("/", content=body, headers=headers)
            stored_while_busy = await _count(container, WebhookDeliveryRow)
            retried = await client.post("/", content=body, headers=headers)
    finally:
        await engine.dispose()

    assert busy.status_code == 503
    assert busy.headers["retry-after"] == "5"
    assert busy.json()["outcome"] == "busy" and "retry" in busy.json()["detail"]
    assert stored_while_busy == 0
    assert (retried.status_code, retried.json()["outcome"]) == (200, "applied")
    assert await _count(container, WebhookDeliveryRow) == 1
    assert await _count(container, RegistrationRow) == 1


async def _count(container: CoreContainer, model: type[object]) -> int:
    async with container.session_factory()() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)
