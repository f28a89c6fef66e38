"""livestorm_sync: a first sync of 20,000 people over 200 sessions from the fake Livestorm.

End to end over real HTTP on loopback: the livestorm integration configured against
``FakeLivestorm`` served from a child process, as a real API is served from another machine
(``benchmarks._fake_server``; in this process it would take the interpreter lock from the
code under measurement), burst limit off on both sides, the fake's and the client's
``requests_per_second``; no quota reserve), then one ``SyncService.start("livestorm")`` as
``leadbridge sync run livestorm`` does it: contacts, mappings, change log, registration and
attendance rows, point actions. ``n`` is the people objects (registrations) the API listed.

Floor: the same pages (the sessions, the events, each session's people, 50 a page) read
with a bare ``httpx.AsyncClient`` loop and json-decoded, nothing else, against the same server.
Targets (full, SQLite): ratio to floor ≤ 2.5; ``api_calls`` (what the run
counted) equal to ``pages_needed`` (computed from what the fake holds), no more. Beside the
wall-clock ratio, ``cpu_ratio_to_floor`` compares this process's CPU seconds of the sync and of
the floor (``benchmarks._cpu``): steadier than wall time on a loaded machine.

Rate-limited: a second sync, of a smaller workspace (``LIMITED_SCALES``; full: 2,500 people,
the first sync issue #15 measured), against a fake with its burst limit on (at most 5 requests
in any sliding second) and the client's limiter on, as against Livestorm. It records
``ceiling_efficiency`` = pages served / (5 x seconds) — how much of the 5 per second ceiling
the sync uses (target ≥ 0.95), ``ceiling_efficiency_calling`` the same over the span from the
first to the last request (the limiter's share, without the run's start-up and its last
page's writes) — and ``throttled``, the 429s the fake answered (target 0).
"""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from leadbridge.sync import SyncOptions, SyncStatus
from leadbridge_livestorm.testing import Workspace, generate_workspace

from ._common import peak_rss_mb, result
from ._cpu import cpu_figures
from ._sync_common import close, open_container

#: (events, sessions per event, people): full is the size issue #8 names.
SCALES = {"smoke": (4, 5, 1_000), "full": (20, 10, 20_000)}
#: The rate-limited sync: (events, sessions per event, people).
LIMITED_SCALES = {"smoke": (2, 2, 300), "full": (4, 5, 2_500)}
#: Livestorm's burst limit: requests in any sliding second.
BURST_LIMIT = 5
PAGE_SIZE = 50
#: Enough monthly calls for the sync and the floor (Livestorm's real 10,000 is not measured).
MONTHLY_LIMIT = 1_000_000
SEED = 8


def pages_needed(workspace: Workspace) -> int:
    """The calls a first sync cannot do without: every list page, 50 a page (an empty list
    still costs its one call), read from the fake's data rather than from the run."""

    def pages(count: int) -> int:
        return max(1, math.ceil(count / PAGE_SIZE))

    total = pages(len(workspace.sessions)) + pages(len(workspace.events))
    return total + sum(pages(len(s.registrations)) for s in workspace.sessions.values())


class FakeServer:
    """The fake Livestorm in a child process (``benchmarks._fake_server``)."""

    def __init__(
        self, seed: int, events: int, sessions: int, people: int, rate_limit: int = 0
    ) -> None:
        args = [str(a) for a in (seed, events, sessions, people, MONTHLY_LIMIT, rate_limit)]
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks._fake_server", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).parent.parent,
        )
        started = json.loads(self._read())
        self.base_url: str = started["base_url"]
        self.token: str = started["token"]

    def _read(self) -> str:
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError("livestorm_sync: the fake Livestorm process ended early")
        return line

    def reset_calls(self) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.write("reset\n")
        self._proc.stdin.flush()
        self._read()

    def close(self) -> tuple[int, int, float]:
        """Stop the server; ``(requests answered, 429s among them, seconds from the first
        to the last)`` since the last reset."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.close()
        counts = json.loads(self._read())
        self._proc.stdout.close()
        self._proc.wait(timeout=30)
        return int(counts["calls"]), int(counts["throttled"]), float(counts["span"])

    def kill(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        for pipe in (self._proc.stdin, self._proc.stdout):
            if pipe is not None and not pipe.closed:
                pipe.close()


async def bare_floor(base_url: str, token: str) -> tuple[float, float, int, int]:
    """Read the same pages with a bare httpx loop; ``(seconds, CPU seconds, calls, people)``."""
    headers = {"Authorization": token, "Accept": "application/vnd.api+json"}
    calls = people = 0
    async with httpx.AsyncClient(base_url=base_url, headers=headers) as client:

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

        started, cpu = time.perf_counter(), time.process_time()
        sessions = await walk("/sessions")
        await walk("/events")
        for session in sessions:
            people += len(await walk(f"/sessions/{session['id']}/people"))
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return seconds, cpu, calls, people


async def _run(db: str, scale: str, database_url: str) -> dict[str, Any]:
    events, sessions_per_event, people = SCALES[scale]
    # The same seed gives the child's workspace: what the pages must hold is known here.
    workspace = generate_workspace(
        seed=SEED, events=events, sessions_per_event=sessions_per_event, people=people
    )
    registrations = sum(len(s.registrations) for s in workspace.sessions.values())
    needed = pages_needed(workspace)
    container = await open_container(database_url)
    fake = FakeServer(SEED, events, sessions_per_event, people)
    try:
        floor, floor_cpu, floor_calls, floor_people = await bare_floor(fake.base_url, fake.token)
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
                "requests_per_second": 0,  # rate limit off, as the fake's
                "quota_reserve": 0,
            },
            credentials={"api_token": fake.token},
            enabled=True,
        )
        fake.reset_calls()
        started, cpu = time.perf_counter(), time.process_time()
        outcome = await container.sync_service().start("livestorm")
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        served, _throttled, _span = fake.close()
        rss = peak_rss_mb()
        contacts = len(workspace.unique_emails())
        c = outcome.counters
        # People without an email and team members are skipped, which is no failure.
        if outcome.status != SyncStatus.SUCCEEDED or c.failed or c.created != contacts:
            raise RuntimeError(f"livestorm_sync: unexpected outcome {outcome.to_dict()}")
        limited = await _rate_limited_sync(container, scale)
    finally:
        fake.kill()
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
        skipped=c.skipped,
        api_calls=c.api_calls,
        api_calls_served=served,
        pages_needed=needed,
        api_calls_equal_pages_needed=c.api_calls == needed == served,
        floor_rate_per_s=round(registrations / floor),
        **cpu_figures(cpu, floor_cpu),
        **limited,
    )


async def _rate_limited_sync(container: Any, scale: str) -> dict[str, Any]:
    """A sync against the fake with its burst limit on; the ceiling it reached, its 429s."""
    events, sessions_per_event, people = LIMITED_SCALES[scale]
    fake = FakeServer(SEED + 1, events, sessions_per_event, people, rate_limit=BURST_LIMIT)
    try:
        await container.integration_settings_service().configure(
            "livestorm",
            settings={
                "base_url": fake.base_url,
                "requests_per_second": BURST_LIMIT,
                "quota_reserve": 0,
            },
            credentials={"api_token": fake.token},
            enabled=True,
        )
        fake.reset_calls()
        started = time.perf_counter()
        outcome = await container.sync_service().start("livestorm", SyncOptions(full=True))
        seconds = time.perf_counter() - started
        served, throttled, span = fake.close()
    finally:
        fake.kill()
    if outcome.status != SyncStatus.SUCCEEDED:
        raise RuntimeError(f"livestorm_sync: rate-limited sync {outcome.to_dict()}")
    return {
        "limited_people": people,
        "limited_seconds": round(seconds, 3),
        "limited_api_calls": outcome.counters.api_calls,
        "limited_pages_served": served,
        "throttled": throttled,
        "ceiling_efficiency": round(served / (BURST_LIMIT * seconds), 3),
        # The same over the calling span only (first to last request the fake received): the
        # limiter's own share, without the run's start and its last page's writes.
        "ceiling_efficiency_calling": round((served - 1) / (BURST_LIMIT * span), 3)
        if span > 0
        else None,
    }


def run(db: str, scale: str, database_url: str) -> dict[str, Any]:
    return asyncio.run(_run(db, scale, database_url))
