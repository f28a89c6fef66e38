"""The Livestorm demo workspace: the fake Livestorm server, seeded, for ``leadbridge demo``."""

from __future__ import annotations

from pathlib import Path

from typing_extensions import override

from leadbridge.integrations import BaseDemo, DemoPointAction, DemoSegment, DemoSetup

from .testing import FakeLivestorm, Growth, RegistrationRecord, generate_workspace


class LivestormDemo(BaseDemo):
    """A realistic workspace: a few events, past and upcoming sessions, a few thousand people.

    While it runs, ``growth`` new people register every ``growth_interval`` seconds
    (:class:`~leadbridge_livestorm.testing.Growth`; ``growth=0`` turns it off), so a
    scheduled sync has something new to pull; :meth:`grow` adds a step now.
    """

    def __init__(
        self,
        *,
        people: int = 3000,
        events: int = 4,
        seed: int = 2026,
        growth: int = 3,
        growth_interval: float = 60.0,
    ) -> None:
        self._people = people
        self._events = events
        self._seed = seed
        self._growth_per_step = growth
        self._growth_interval = growth_interval
        self._fake: FakeLivestorm | None = None
        self._growth: Growth | None = None

    @override
    async def start(self, data_dir: Path) -> DemoSetup:
        workspace = generate_workspace(
            self._seed, events=self._events, sessions_per_event=2, people=self._people
        )
        # The demo is about the product, not about waiting for Livestorm's burst limit.
        self._fake = fake = FakeLivestorm(workspace, rate_limit=None)
        fake.start()
        self._growth = Growth(
            workspace, per_step=self._growth_per_step, interval=self._growth_interval
        )
        if self._growth_per_step > 0:
            self._growth.start()
        past = sorted(
            (s for s in workspace.sessions.values() if s.ended_at),
            key=lambda s: s.ended_at,
        )
        last_event = past[-1].event_id if past else next(iter(workspace.events))
        title = workspace.events[last_event].title
        return DemoSetup(
            settings={"base_url": fake.base_url, "requests_per_second": 50},
            credentials={"api_token": fake.token, "webhook_secret": fake.webhook_secret},
            custom_fields=[("job_title", "text", "Job title")],
            segments=[
                DemoSegment(
                    "Attended the last webinar",
                    "attended-last-webinar",
                    [{"field": "livestorm.attended", "operator": "in", "value": [last_event]}],
                    f"Attended “{title}”",
                ),
                DemoSegment(
                    "Registered but absent",
                    "registered-but-absent",
                    [{"field": "livestorm.absent", "operator": "!empty"}],
                ),
                DemoSegment(
                    "Asked a question",
                    "asked-a-question",
                    [{"field": "livestorm.questions", "operator": "gt", "value": 0}],
                ),
            ],
            point_actions=[
                DemoPointAction("Attended a webinar", "livestorm.attended", 10),
                DemoPointAction("Asked a question", "livestorm.asked_question", 5),
                DemoPointAction("Registered for a webinar", "livestorm.registered", 1),
            ],
            notes=[
                f"fake Livestorm at {fake.base_url}: {len(workspace.events)} events, "
                f"{len(workspace.sessions)} sessions, {len(workspace.people)} people"
                + (
                    f"; {self._growth_per_step} new registrations every {self._growth_interval:g} s"
                    if self._growth_per_step > 0
                    else ""
                ),
            ],
        )

    def grow(self) -> list[RegistrationRecord]:
        """One growth step now (what the background growth does every interval)."""
        if self._growth is None:
            raise RuntimeError("start the demo first")
        return self._growth.step()

    @override
    async def stop(self) -> None:
        if self._growth is not None:
            self._growth.stop()
            self._growth = None
        if self._fake is not None:
            self._fake.stop()
            self._fake = None
