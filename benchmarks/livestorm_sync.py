"""livestorm_sync: a first sync of 20,000 people over 200 sessions from the fake Livestorm.

End to end over real HTTP on loopback: the livestorm integration configured against
``FakeLivestorm`` (burst limit off, the client's ``requests_per_second`` at the settings'
maximum, no quota reserve), then one ``SyncService.start("livestorm")`` as ``leadbridge sync run
livestorm`` does it: contacts, mappings, change log, registration and attendance rows, point
actions. ``n`` is the people objects (registrations) the API listed.

Floor: the same pages (events, each event's sessions, each session's people, 50 a page) read
with a bare ``httpx.AsyncClient`` loop and json-decoded, nothing else, against the same server
in the same process. Targets (full, SQLite): ratio to floor ≤ 2.5; ``api_calls`` (what the run
counted) equal to ``pages_needed`` (computed from what the fake holds), no more.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import httpx

from leadbridge.sync import SyncStatus
from leadbridge_livestorm.testing import FakeLivestorm, Workspace, generate_workspace

from ._common import peak_rss_mb, result
from ._sync_common import close, open_container

#: (events, sessions per event, people): full is the size issue #8 names.
SCALES = {"smoke": (4, 5, 1_000), "full": (20, 10, 20_000)}
PAGE_SIZE = 50
#: Enough monthly calls for the sync and the floor (Livestorm's real 10,000 is not measured).
MONTHLY_LIMIT = 1_000_000


def pages_needed(workspace: Workspace) -> int:
    """The calls a first sync cannot do without: every list page, 50 a page (an empty list
    still costs its one call), read from the fake's data rather than from the run."""

    def pages(count: int) -> int:
        return max(1, math.ceil(count / PAGE_SIZE))

    total = pages(len(workspace.events))
    for event in workspace.events.values():
        total += pages(len(event.session_ids))
        total += sum(pages(len(workspace.sessions[s].registrations)) for s in event.session_ids)
    return total


async def bare_floor(fake: FakeLivestorm) -> tuple[float, int, int]:
    """Read the same pages with a bare httpx loop; ``(seconds, calls, people)``."""
    headers = {**fake.auth_headers, "Accept": "application/vnd.api+json"}
    calls = people = 0
    async with httpx.AsyncClient(base_url=fake.base_url, headers=headers) as client:

        async def walk(path: str) -> list[dict[str, Any]]:
            nonlocal calls
            items: list[dict[str, Any]] = []
            number: int | None = 0
            while number is not None:
                response = await client.get(
                    path, params={"page[number]": number, "page[size]": PAGE_SIZE}
                )
                response.raise_for_status()
                calls += 1
                document = response.json()
                items.extend(document["data"])
                number = document["meta"]["next_page"]
            return items

        started = time.perf_counter()
        for event in await walk("/events"):
            for session in await walk(f"/events/{event['id']}/sessions"):
                people += len(await walk(f"/sessions/{session['id']}/people"))
        seconds = time.perf_counter() - started
    return seconds, calls, people


async def _run(db: str, scale: str, database_url: str) -> dict[str, Any]:
    events, sessions_per_event, people = SCALES[scale]
    workspace = generate_workspace(
        seed=8, events=events, sessions_per_event=sessions_per_event, people=people
    )
    registrations = sum(len(s.registrations) for s in workspace.sessions.values())
    needed = pages_needed(workspace)
    container = await open_container(database_url)
    try:
        with FakeLivestorm(workspace, rate_limit=None, monthly_limit=MONTHLY_LIMIT) as fake:
            floor, floor_calls, floor_people = await bare_floor(fake)
            if (floor_calls, floor_people) != (needed, registrations):
                raise RuntimeError(
                    f"livestorm_sync: the floor read {floor_calls} pages and {floor_people} "
                    f"people, not {needed} and {registrations}"
                )
            await container.custom_field_service().define("job_title", "text", label="Job title")
            await container.integration_settings_service().configure(
                "livestorm",
                settings={
                    "base_url": fake.base_url,
                    "requests_per_second": 50,  # the most the settings allow
                    "quota_reserve": 0,
                },
                credentials={"api_token": fake.token},
                enabled=True,
            )
            fake.reset_calls()
            started = time.perf_counter()
            outcome = await container.sync_service().start("livestorm")
            seconds = time.perf_counter() - started
            served = fake.call_count()
        rss = peak_rss_mb()
        contacts = len(workspace.unique_emails())
        c = outcome.counters
        # People without an email and team members are recorded as skipped: a partial run.
        skipped = [f for f in outcome.failures if not f.message.startswith("skipped (")]
        if (
            outcome.status not in (SyncStatus.SUCCEEDED, SyncStatus.PARTIAL)
            or skipped
            or c.created != contacts
        ):
            raise RuntimeError(f"livestorm_sync: unexpected outcome {outcome.to_dict()}")
    finally:
        await close(container)
    return result(
        "livestorm_sync",
        db,
        registrations,
        seconds,
        floor,
        rss,
        events=events,
        sessions=events * sessions_per_event,
        contacts_created=c.created,
        objects_pulled=c.pulled,
        skipped=c.failed,
        api_calls=c.api_calls,
        api_calls_served=served,
        pages_needed=needed,
        api_calls_equal_pages_needed=c.api_calls == needed == served,
        floor_rate_per_s=round(registrations / floor),
    )


def run(db: str, scale: str, database_url: str) -> dict[str, Any]:
    return asyncio.run(_run(db, scale, database_url))
