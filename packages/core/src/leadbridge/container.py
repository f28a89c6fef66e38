"""The core dependency-injection container.

Embedding LeadBridge in a backend takes two lines::

    container = CoreContainer()                 # settings from LEADBRIDGE_* variables
    contacts = container.contact_service()

Override a provider to configure it explicitly::

    container = CoreContainer(settings=providers.Object(Settings(...)))

Call :func:`shutdown` (``await shutdown(container)``) before the event loop closes.
"""

from __future__ import annotations

from dependency_injector import containers, providers

from ._crypto import SecretBox
from .contacts import ChangeLogService, ContactService, CustomFieldService
from .db import create_engine, create_session_factory
from .events import EventBus
from .integrations import IntegrationRegistry, IntegrationSettingsService
from .segments import SegmentService
from .settings import Settings
from .tokens import TokenService


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

    #: Plugin segment filters (``BaseSegmentFilter`` instances); integrations extend the list.
    segment_filters = providers.List()
    segment_service = providers.Singleton(
        SegmentService,
        session_factory=session_factory,
        event_bus=event_bus,
        timezone=settings.provided.timezone,
        plugin_filters=segment_filters,
    )


async def shutdown(container: CoreContainer) -> None:
    """Close the database pool if the container opened one."""
    # Creating the engine opens no connection, so this is cheap when nothing was used.
    await container.engine().dispose()
