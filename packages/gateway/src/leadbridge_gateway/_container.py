"""The gateway's container: mounts core's, adds the schema, binds resources to the app."""

from __future__ import annotations

from collections.abc import AsyncIterator

from dependency_injector import containers, providers
from sqlalchemy.ext.asyncio import AsyncEngine

from leadbridge.contacts import ContactRepository
from leadbridge.points import PointRepository
from leadbridge.segments import SegmentRepository
from leadbridge.sync import SyncRunRepository

from ._context import GatewayServices
from ._schema import build_schema
from ._settings import GatewaySettings
from ._sync_runner import SyncRunner


async def _database(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """The engine for the app's lifetime; its pool is closed when the app stops."""
    try:
        yield engine
    finally:
        await engine.dispose()


class GatewayContainer(containers.DeclarativeContainer):
    """``GatewayContainer(core=CoreContainer(...))``; the app's lifespan starts and stops it."""

    core = providers.DependenciesContainer()
    settings = providers.Singleton(GatewaySettings.from_env)

    database = providers.Resource(_database, engine=core.engine)
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
