"""The gateway's container: mounts core's, adds the schema, binds resources to the app."""

from __future__ import annotations

from dependency_injector import containers, providers

from leadbridge.contacts import ContactRepository
from leadbridge.points import PointRepository
from leadbridge.segments import SegmentRepository
from leadbridge.sync import SyncRunRepository

from ._context import GatewayServices
from ._schema import build_schema
from ._settings import GatewaySettings
from ._sync_runner import SyncRunner


class GatewayContainer(containers.DeclarativeContainer):
    """``GatewayContainer(core=CoreContainer(...))``: the gateway's parts over core's.

    Core's container owns the engine and the subscriptions: the app's lifespan starts it
    (``leadbridge.start``) and only its owner shuts it down (``leadbridge.shutdown``).
    """

    core = providers.DependenciesContainer()
    settings = providers.Singleton(GatewaySettings.from_env)

    #: Syncs started through the API; the app's lifespan cancels them at shutdown.
    sync_runner = providers.Singleton(
        SyncRunner,
        sync_service=core.sync_service,
        sync_run_service=core.sync_run_service,
        job_queue=core.job_queue,
    )
    services = providers.Singleton(
        GatewayServices,
        # Reads go through read-only sessions: on SQLite they never wait for the write lock.
        read_session_factory=core.read_session_factory,
        contact_service=core.contact_service,
        custom_field_service=core.custom_field_service,
        token_service=core.token_service,
        contacts=providers.Singleton(ContactRepository),
        segments=providers.Singleton(SegmentRepository),
        points=providers.Singleton(PointRepository),
        sync_runs=providers.Singleton(SyncRunRepository),
        segment_service=core.segment_service,
        integration_registry=core.integration_registry,
        integration_settings_service=core.integration_settings_service,
        sync_run_service=core.sync_run_service,
        sync_runner=sync_runner,
        points_service=core.points_service,
        schedule_service=core.schedule_service,
        job_queue=core.job_queue,
    )
    schema = providers.Singleton(build_schema, settings=settings, contact_data=core.contact_data)
