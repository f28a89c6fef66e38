"""The core dependency-injection container.

Embedding LeadBridge in a backend takes two lines::

    container = CoreContainer()                 # settings from LEADBRIDGE_* variables
    contacts = container.contact_service()

Override a provider to configure it explicitly::

    container = CoreContainer(settings=providers.Object(Settings(...)))

Call :func:`shutdown` (``await shutdown(container)``) before the event loop closes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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


def _subscribe_plugins(event_bus: EventBus, registry: IntegrationRegistry) -> EventBus:
    """``event_bus`` with every plugin's event subscribers subscribed (once: a Singleton)."""
    registry.subscribe_all(event_bus)
    return event_bus


def _contact_data(registry: IntegrationRegistry) -> list[BaseContactData]:
    return registry.contact_data()


def _plugin_contributions(
    registry: IntegrationRegistry, kind: str, own: Sequence[Any]
) -> list[Any]:
    """The embedder's own items plus every loaded plugin's ``kind`` list."""
    return [*own, *registry.collect(kind)]


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

    #: Plugins' event subscribers subscribed to ``event_bus`` the first time a service that
    #: publishes plugin-relevant events (sync, points, segments) is built.
    plugin_event_bus = providers.Singleton(
        _subscribe_plugins, event_bus=event_bus, registry=integration_registry
    )

    #: Extra segment filters (``BaseSegmentFilter`` instances) an embedder adds; the installed
    #: plugins' ``segment_filters`` are appended to them.
    segment_filters = providers.List()
    segment_service = providers.Singleton(
        SegmentService,
        session_factory=session_factory,
        event_bus=plugin_event_bus,
        timezone=settings.provided.timezone,
        plugin_filters=providers.Callable(
            _plugin_contributions, integration_registry, "segment_filters", segment_filters
        ),
    )

    sync_engine = providers.Singleton(
        SyncEngine,
        session_factory=session_factory,
        contact_service=contact_service,
        change_log=change_log_service,
        event_bus=plugin_event_bus,
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
            _plugin_contributions, integration_registry, "job_kinds", job_kinds
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
    # appended. Building points_service subscribes the action types to event_bus.
    point_action_types = providers.List()
    point_trigger_event_types = providers.List()
    points_service = providers.Singleton(
        PointsService,
        session_factory=session_factory,
        event_bus=plugin_event_bus,
        action_types=providers.Callable(
            _plugin_contributions, integration_registry, "point_action_types", point_action_types
        ),
        trigger_event_types=point_trigger_event_types,
    )


async def shutdown(container: CoreContainer) -> None:
    """Close the job queue and the database pool if the container opened them."""
    # Neither building the queue nor the engine opens a connection: cheap when unused.
    await container.job_queue().close()
    await container.engine().dispose()
