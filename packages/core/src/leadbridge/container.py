"""The core dependency-injection container.

Embedding LeadBridge in a backend takes three lines::

    container = CoreContainer()                 # settings from LEADBRIDGE_* variables
    start(container)                            # subscribe points and plugins to events
    contacts = container.contact_service()

Override a provider to configure it explicitly::

    container = CoreContainer(settings=providers.Object(Settings(...)))

Building a service has no side effect: :func:`start` wires the event subscriptions (point
actions, plugins' subscribers) once, whatever was built before or after it. Call
:func:`shutdown` (``await shutdown(container)``) before the event loop closes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

from dependency_injector import containers, providers

from ._crypto import SecretBox
from .contacts import ChangeLogService, ContactService, CustomFieldService
from .db import create_engine, create_session_factory
from .events import EventBus
from .integrations import BaseContactData, IntegrationRegistry, IntegrationSettingsService
from .jobs import EmbeddedRunner, JobCatalog, JobQueue, ScheduleService
from .points import PointsService
from .segments import SegmentService
from .settings import Settings
from .sync import RegistryTargetResolver, SyncEngine, SyncRunService, SyncService
from .tokens import TokenService

T = TypeVar("T")


def _event_subscriptions(
    event_bus: EventBus, registry: IntegrationRegistry, points: PointsService
) -> Iterator[int]:
    """Subscribe the plugins' event subscribers and the point actions; undo it at shutdown.

    Yields how many plugin handlers it subscribed.
    """
    plugin_handlers = registry.event_subscribers()
    for event_type, handler in plugin_handlers:
        event_bus.subscribe(event_type, handler)
    points.subscribe()
    try:
        yield len(plugin_handlers)
    finally:
        points.unsubscribe()
        for event_type, handler in plugin_handlers:
            event_bus.unsubscribe(event_type, handler)


def _contact_data(registry: IntegrationRegistry) -> list[BaseContactData]:
    return registry.contact_data()


def _own_then_plugins(own: Sequence[T], plugins: Sequence[T]) -> list[T]:
    """The embedder's own items, then every loaded plugin's (filters, action types, kinds)."""
    return [*own, *plugins]


class CoreContainer(containers.DeclarativeContainer):
    __self__ = providers.Self()

    settings = providers.Singleton(Settings.from_env)

    engine = providers.Singleton(create_engine, database_url=settings.provided.database_url)
    session_factory = providers.Singleton(create_session_factory, engine=engine)
    read_session_factory = providers.Singleton(
        create_session_factory, engine=engine, read_only=True
    )
    secret_box = providers.Singleton(SecretBox, key=settings.provided.secret_key)
    event_bus = providers.Singleton(EventBus)

    custom_field_service = providers.Singleton(CustomFieldService, session_factory=session_factory)
    contact_service = providers.Singleton(
        ContactService, session_factory=session_factory, event_bus=event_bus
    )
    change_log_service = providers.Singleton(ChangeLogService, session_factory=session_factory)
    token_service = providers.Singleton(TokenService, session_factory=session_factory)

    # Plugins are mounted with this very container as their ``core`` dependency.
    integration_registry = providers.Singleton(
        IntegrationRegistry, core=__self__, plugins=settings.provided.plugins
    )
    integration_settings_service = providers.Singleton(
        IntegrationSettingsService,
        session_factory=session_factory,
        secret_box=secret_box,
        registry=integration_registry,
        custom_field_service=custom_field_service,
    )

    #: What the loaded plugins publish about each contact (``BaseContactData``), checked: the
    #: gateway adds a ``Contact`` field per item.
    contact_data = providers.Singleton(_contact_data, registry=integration_registry)

    #: Extra segment filters (``BaseSegmentFilter`` instances) an embedder adds; the installed
    #: plugins' ``segment_filters`` are appended to them.
    segment_filters = providers.List()
    segment_service = providers.Singleton(
        SegmentService,
        session_factory=session_factory,
        event_bus=event_bus,
        timezone=settings.provided.timezone,
        plugin_filters=providers.Callable(
            _own_then_plugins,
            segment_filters,
            integration_registry.provided.segment_filters.call(),
        ),
    )

    sync_engine = providers.Singleton(
        SyncEngine,
        session_factory=session_factory,
        contact_service=contact_service,
        change_log=change_log_service,
        event_bus=event_bus,
        custom_fields=custom_field_service,
    )
    sync_service = providers.Singleton(
        SyncService,
        engine=sync_engine,
        resolve=providers.Singleton(
            RegistryTargetResolver,
            registry=integration_registry,
            settings=integration_settings_service,
        ),
    )
    sync_run_service = providers.Singleton(SyncRunService, session_factory=session_factory)

    # Jobs: the embedder's own job kinds (``BaseJobKind``) plus the plugins' ``job_kinds``.
    job_kinds = providers.List()
    job_catalog = providers.Singleton(
        JobCatalog,
        sync_service=sync_service,
        segment_service=segment_service,
        change_log_service=change_log_service,
        plugin_kinds=providers.Callable(
            _own_then_plugins, job_kinds, integration_registry.provided.job_kinds.call()
        ),
    )
    schedule_service = providers.Singleton(
        ScheduleService, session_factory=session_factory, kinds=job_catalog.provided.plugin_names
    )
    #: SQLite (or no queue): runs due schedules in-process (``leadbridge worker``).
    embedded_runner = providers.Singleton(
        EmbeddedRunner,
        catalog=job_catalog,
        schedules=schedule_service,
        sync_runs=sync_run_service,
    )
    #: PostgreSQL: the procrastinate queue (``JobQueue.available`` says whether it is there).
    job_queue = providers.Singleton(
        JobQueue,
        database_url=settings.provided.database_url,
        catalog=job_catalog,
        schedules=schedule_service,
        session_factory=session_factory,
    )
    # Points: the embedder's own action types and trigger events; the plugins' action types are
    # appended. Building points_service subscribes nothing: `subscriptions` does, at start.
    point_action_types = providers.List()
    point_trigger_event_types = providers.List()
    points_service = providers.Singleton(
        PointsService,
        session_factory=session_factory,
        event_bus=event_bus,
        action_types=providers.Callable(
            _own_then_plugins,
            point_action_types,
            integration_registry.provided.point_action_types.call(),
        ),
        trigger_event_types=point_trigger_event_types,
    )

    #: The event bus's subscribers: the plugins' and the point actions'. :func:`start`
    #: initialises it (once), :func:`shutdown` unsubscribes them.
    subscriptions = providers.Resource(
        _event_subscriptions,
        event_bus=event_bus,
        registry=integration_registry,
        points=points_service,
    )


def start(container: CoreContainer) -> None:
    """Wire ``container``: subscribe the point actions and every loaded plugin's event
    subscribers to its event bus, so that a contact written through any service awards
    points and reaches the plugins. Idempotent: a second call subscribes nothing again.

    Every entry point calls it once (the CLI, the gateway's startup, the worker, the test
    fixtures, the demo); an embedder calls it after building the container.
    """
    container.subscriptions.init()


async def shutdown(container: CoreContainer) -> None:
    """Unsubscribe what :func:`start` subscribed; close the job queue and the database pool
    if the container opened them. The container owns its engine: only this disposes it."""
    container.subscriptions.shutdown()
    # Neither building the queue nor the engine opens a connection: cheap when unused.
    await container.job_queue().close()
    await container.engine().dispose()
