"""``LivestormRegistrations``: what the API publishes per contact, after a real pull.

The workspace and the fake server are those of ``conftest.py``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, select

from leadbridge.contacts import ContactRow
from leadbridge.container import CoreContainer
from leadbridge.integrations import check_contact_data
from leadbridge.sync import SyncStatus
from leadbridge_livestorm import LivestormRegistrations
from leadbridge_livestorm.testing import FakeLivestorm, Workspace


def _time(seconds: int) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if seconds else None


def expected(workspace: Workspace) -> dict[str, list[dict[str, Any]]]:
    """Per lower-cased email, the registrations the pull imports, as the API shows them."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for reg in workspace.iter_registrations():
        if not reg.person.email or reg.person.is_team_member:
            continue
        session = workspace.sessions[reg.session_id]
        seconds = reg.attendance_duration
        out[reg.person.email.lower()].append(
            {
                "event_id": reg.event_id,
                "event_title": workspace.events[reg.event_id].title,
                "session_id": session.id,
                "session_scheduled_at": _time(session.estimated_started_at),
                "session_started_at": _time(session.started_at),
                "attended": reg.attended,
                "attendance_rate": reg.attendance_rate,
                "duration_minutes": None if seconds is None else round(seconds / 60, 2),
                "replay_watched": bool(reg.replay_watched_at),
                "utm_source": reg.utm_source,
            }
        )
    return out


async def test_registrations_of_a_page_of_contacts_in_one_statement(
    container: CoreContainer, fake: FakeLivestorm, workspace: Workspace
) -> None:
    await container.integration_settings_service().configure(
        "livestorm",
        settings={"base_url": fake.base_url, "requests_per_second": 50, "quota_reserve": 0},
        credentials={"api_token": fake.token},
        enabled=True,
    )
    result = await container.sync_service().start("livestorm")
    assert result.status is SyncStatus.SUCCEEDED, result.error

    # Core hands the plugin's contact data to the gateway, checked.
    (source,) = [d for d in container.contact_data() if d.integration == "livestorm"]
    assert isinstance(source, LivestormRegistrations)
    assert check_contact_data(source, "livestorm") is source

    async with container.session_factory()() as session:
        contacts = dict((await session.execute(select(ContactRow.email, ContactRow.id))).all())
    nobody = await container.contact_service().create("nobody@x.io")
    ids = [*contacts.values(), nobody.id]
    async with container.session_factory()() as session:
        statements: list[str] = []
        engine = container.engine().sync_engine

        def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", count)
        try:
            found = await source.load(session, ids)
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1

    assert nobody.id not in found or list(found[nobody.id]) == []
    want = expected(workspace)
    assert set(want) == {e.lower() for e in contacts}
    several = 0
    for email, contact_id in contacts.items():
        rows = [dict(r) for r in found[contact_id]]
        assert {c.name for c in source.columns} == set(rows[0])
        got = [{k: r[k] for k in want[email.lower()][0]} for r in rows]
        key = lambda r: r["session_id"]  # noqa: E731
        assert sorted(got, key=key) == sorted(want[email.lower()], key=key)
        starts = [r["session_started_at"] or r["session_scheduled_at"] for r in rows]
        assert starts == sorted(starts, reverse=True)  # the session starting last first
        several += len(rows) > 1
    assert several  # the workspace has people registered to several sessions
