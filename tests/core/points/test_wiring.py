"""Building a service subscribes nothing; starting the container wires every subscription once.

Each test builds a container of its own, not started, on the session database; the
``container`` fixture (started) writes the point actions and empties the tables afterwards.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from dependency_injector import providers
from leadbridge_example import SEEN_CONTACTS

from leadbridge import CoreContainer, Settings, shutdown, start
from leadbridge.events import ContactCreated


@pytest_asyncio.fixture
async def unstarted(settings: Settings, container: CoreContainer) -> AsyncIterator[CoreContainer]:
    # Repeatable: every subscription that fires awards again, so doubles would show.
    await container.points_service().create_action(
        "New lead", "contact.created", 5, repeatable=True
    )
    SEEN_CONTACTS.clear()
    fresh = CoreContainer(settings=providers.Object(settings))
    try:
        yield fresh
    finally:
        await shutdown(fresh)
        SEEN_CONTACTS.clear()


async def test_after_start_the_contact_service_alone_awards_points(
    unstarted: CoreContainer,
) -> None:
    start(unstarted)
    ann = await unstarted.contact_service().create("ann@example.com")
    assert ann.points == 5  # no other service was built by the test
    assert [ann.id] == SEEN_CONTACTS  # and the plugins heard it


async def test_before_start_building_services_subscribes_nothing(
    unstarted: CoreContainer,
) -> None:
    contacts = unstarted.contact_service()
    unstarted.points_service()
    unstarted.sync_engine()
    unstarted.segment_service()
    assert not unstarted.event_bus().has_subscribers(ContactCreated)
    ann = await contacts.create("ann@example.com")
    assert ann.points == 0 and SEEN_CONTACTS == []
    start(unstarted)  # the services built before start are wired too
    bob = await contacts.create("bob@example.com")
    assert bob.points == 5 and [bob.id] == SEEN_CONTACTS


async def test_starting_twice_subscribes_once_and_shutdown_unsubscribes(
    unstarted: CoreContainer,
) -> None:
    start(unstarted)
    handlers = len(unstarted.event_bus().handlers_for(ContactCreated))
    start(unstarted)
    assert len(unstarted.event_bus().handlers_for(ContactCreated)) == handlers
    ann = await unstarted.contact_service().create("ann@example.com")
    assert ann.points == 5 and [ann.id] == SEEN_CONTACTS  # once each, not twice

    await shutdown(unstarted)
    assert not unstarted.event_bus().has_subscribers(ContactCreated)
    bob = await unstarted.contact_service().create("bob@example.com")
    assert bob.points == 0 and [ann.id] == SEEN_CONTACTS
    start(unstarted)  # a shut down container starts again
    cy = await unstarted.contact_service().create("cy@example.com")
    assert cy.points == 5 and [ann.id, cy.id] == SEEN_CONTACTS
