"""The demo's minute schedule: added once (a rerun finds it), and a due firing pulls the
registrations the fake workspace gained — driven by hand, without waiting a minute."""

from __future__ import annotations

from leadbridge import CoreContainer
from leadbridge.integrations import BaseDemo
from leadbridge.jobs import JobKind
from leadbridge_gateway._demo import SYNC_CRON, configure, ensure_schedules, sync
from leadbridge_livestorm import LivestormDemo


async def test_the_demo_schedules_one_sync_a_minute_and_it_pulls_the_new_registrations(
    container: CoreContainer,
) -> None:
    demos: list[BaseDemo] = []
    said: list[str] = []
    try:
        setups = await configure(container, demos, said.append)
        await sync(container, list(setups), said.append)
        await ensure_schedules(container, list(setups), said.append)
        await ensure_schedules(container, list(setups), said.append)  # a rerun of the demo

        (schedule,) = await container.schedule_service().list()
        assert (schedule.kind, schedule.target, schedule.cron) == (
            JobKind.SYNC,
            "livestorm",
            SYNC_CRON,
        )
        told = [line for line in said if line.startswith(f"schedule {schedule.id}:")]
        assert told == [told[0], told[0]] and "every minute" in told[0]

        (demo,) = (d for d in demos if isinstance(d, LivestormDemo))
        grown = demo.grow()
        assert len(grown) == 3
        fired = await container.embedded_runner().run_due(now=schedule.next_due_at)

        assert [(f.kind, f.target, f.failed) for f in fired] == [("sync", "livestorm", False)]
        contacts = container.contact_service()
        for registration in grown:
            assert registration.person.email is not None
            contact = await contacts.get_by_email(registration.person.email)
            assert contact.first_name == "New"
    finally:
        for demo in demos:
            await demo.stop()
