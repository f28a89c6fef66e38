"""Segment filters over synced registrations; the gateway's webhook route from the container."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from leadbridge.container import CoreContainer
from leadbridge_livestorm import signature_header_value
from leadbridge_livestorm.testing import (
    FakeLivestorm,
    RegistrationRecord,
    Workspace,
    generate_workspace,
)

from .conftest import run_queued_webhooks
from .test_sync import configure, emails


@pytest.fixture
def workspace() -> Workspace:
    return generate_workspace(
        seed=11, events=2, sessions_per_event=2, people=90, interaction_ratio=0.6
    )


@pytest.fixture
def fake(workspace: Workspace) -> Iterator[FakeLivestorm]:
    with FakeLivestorm(workspace, rate_limit=None, job_delay=0.01) as server:
        yield server


def _by_email(workspace: Workspace) -> dict[str, list[RegistrationRecord]]:
    out: dict[str, list[RegistrationRecord]] = defaultdict(list)
    for reg in workspace.iter_registrations():
        if reg.person.email and not reg.person.is_team_member:
            out[reg.person.email.lower()].append(reg)
    return out


def _expected(
    workspace: Workspace, event_id: str
) -> list[tuple[str, str, Any, Callable[[list[RegistrationRecord]], bool]]]:
    def on(regs: list[RegistrationRecord]) -> list[RegistrationRecord]:
        return [r for r in regs if r.event_id == event_id]

    def rate(regs: list[RegistrationRecord]) -> int:
        return max((r.attendance_rate for r in regs if r.attendance_rate is not None), default=-1)

    def minutes(regs: list[RegistrationRecord]) -> int:
        durations = [r.attendance_duration for r in regs if r.attendance_duration is not None]
        return max((d // 60 for d in durations), default=-1)

    def attended(regs: list[RegistrationRecord]) -> bool:
        return any(r.attended for r in on(regs))

    return [
        ("livestorm.registered", "=", event_id, lambda regs: bool(on(regs))),
        ("livestorm.registered", "!in", [event_id], lambda regs: not on(regs)),
        ("livestorm.registered", "!empty", None, lambda regs: True),
        ("livestorm.attended", "in", [event_id], attended),
        ("livestorm.attended", "!=", event_id, lambda regs: not attended(regs)),
        ("livestorm.absent", "=", event_id, lambda regs: bool(on(regs)) and not attended(regs)),
        (
            "livestorm.watched_replay",
            "!empty",
            None,
            lambda regs: any(r.replay_watched_at for r in regs),
        ),
        ("livestorm.attendance_rate", "gte", 50, lambda regs: rate(regs) >= 50),
        ("livestorm.attendance_duration", "gte", 10, lambda regs: minutes(regs) >= 10),
        ("livestorm.questions", "gt", 0, lambda regs: sum(r.questions_count for r in regs) > 0),
        ("livestorm.messages", "gte", 1, lambda regs: sum(r.messages_count for r in regs) >= 1),
        ("livestorm.votes", "=", 0, lambda regs: sum(r.votes_count for r in regs) == 0),
    ]


async def test_every_segment_filter_matches_the_expected_contacts(
    container: CoreContainer, fake: FakeLivestorm, workspace: Workspace
) -> None:
    await configure(container, fake)
    await container.sync_service().start("livestorm")
    people = _by_email(workspace)
    assert set(people) == {e.lower() for e in await emails(container)}
    event_id = next(iter(workspace.events))
    segments = container.segment_service()
    keys = set()
    for key, operator, value, wanted in _expected(workspace, event_id):
        keys.add(key)
        expected = sum(1 for regs in people.values() if wanted(regs))
        clause = {"field": key, "operator": operator, "value": value}
        assert await segments.preview_count([clause]) == expected, (key, operator, value)
    assert len(keys) == 9


async def test_gateway_webhook_app_uses_the_stored_secret(
    container: CoreContainer, fake: FakeLivestorm, workspace: Workspace
) -> None:
    await configure(container, fake)
    await container.integration_settings_service().configure(
        "livestorm", credentials={"webhook_secret": fake.webhook_secret}
    )
    app = container.integration_registry().get("livestorm").webhook_app()
    session_id = next(iter(workspace.sessions))
    reg = next(
        r
        for r in workspace.iter_registrations()
        if r.session_id == session_id and r.person.email and not r.person.is_team_member
    )
    payload = fake.webhook_payload(
        "people.registered", session_id=session_id, person_id=reg.person.id
    )
    body = json.dumps(payload).encode()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        bad = await client.post(
            "/", content=body, headers={"x-livestorm-signature": f"{int(time.time())},00"}
        )
        good = await client.post(
            "/",
            content=body,
            headers={
                "x-livestorm-signature": signature_header_value(
                    int(time.time()), fake.webhook_secret, body
                )
            },
        )
    assert bad.status_code >= 400
    assert good.status_code < 300
    await run_queued_webhooks(container.job_queue())
    assert reg.person.email.lower() in {e.lower() for e in await emails(container)}
