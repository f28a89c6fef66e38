"""The plugin contract: the base class of every plugin's container, and its load-time check."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dependency_injector import containers, providers

from .._errors import ConfigurationError
from ..events import Event
from ..points import BasePointActionType
from ..segments import BaseSegmentFilter
from ._base import BaseIntegration
from ._contact_data import BaseContactData
from ._demo import BaseDemo

if TYPE_CHECKING:
    import typer

    from ..jobs import BaseJobKind
    from ..sync import BaseDataExchange

#: ``register(app)``: adds a plugin's commands to the ``leadbridge`` Typer application.
CliRegistrar = Callable[["typer.Typer"], None]
#: ``(EventType, async handler)``: the handler is called with each published event of the type.
EventSubscriber = tuple[type[Event], Callable[[Any], Awaitable[None]]]
#: An ASGI application ``(scope, receive, send)``, or an async ``(request) -> response``.
WebhookApp = Callable[..., Awaitable[Any]]


class BasePluginContainer(containers.DeclarativeContainer):
    """The base class of a plugin's container: the plugin contract, typed.

    Core mounts your subclass with its own container as ``core`` (dependency-injector's
    "decoupled packages" pattern) and reads the providers declared here. Each is annotated
    with what it must provide, so your editor and mypy check the container you write::

        class AcmeContainer(BasePluginContainer):
            core = providers.DependenciesContainer()  # redeclare it to use core.<provider>
            plugin_api = providers.Object("1.0")  # required: the API version you built for
            integration = providers.Singleton(AcmeIntegration)  # required

            client = providers.Singleton(AcmeClient, settings=core.integration_settings_service)
            exchange = providers.Singleton(AcmeExchange, client=client)
            migrations = providers.Object(Path(__file__).parent / "migrations" / "versions")
            cli = providers.Object(register)

    Only ``plugin_api`` and ``integration`` are required; every other provider has an empty
    default. ``plugin_api``, ``migrations`` and ``cli`` must be :class:`providers.Object`:
    core reads them from the class, before any container is mounted. The list providers take
    a ``providers.List(...)`` of providers or any provider of a sequence. Core checks the
    declarations when it loads the plugin and each provided value when it first reads it; a
    mistake is a :class:`~leadbridge.ConfigurationError` naming the plugin and the provider,
    recorded in ``IntegrationRegistry.errors`` while the other plugins load.

    Add any providers of your own (clients, stores): core reads only the names below.
    """

    #: Core's container. A class body cannot see its base's attributes: redeclare
    #: ``core = providers.DependenciesContainer()`` in yours to use ``core.<provider>``.
    core = providers.DependenciesContainer()

    #: Required. The plugin API version (``"MAJOR.MINOR"``) the plugin was built for, as a
    #: literal (never core's :data:`~leadbridge.PLUGIN_API_VERSION`).
    plugin_api: providers.Object[str]
    #: Required. The integration: what it is, what it needs, what it syncs.
    integration: providers.Provider[BaseIntegration]

    #: The Alembic version directory of the plugin's own tables (its branch).
    migrations: providers.Object[Path | None] = providers.Object(None)
    #: ``register(app)`` adding the plugin's commands to ``leadbridge``.
    cli: providers.Object[CliRegistrar | None] = providers.Object(None)
    #: The sync data exchange: ``leadbridge sync run <name>`` and ``SyncService`` use it.
    exchange: providers.Provider[BaseDataExchange | None] = providers.Object(None)
    #: Segment filters added to the segments' filter dictionary.
    segment_filters: providers.Provider[Sequence[BaseSegmentFilter]] | providers.List = (
        providers.List()
    )
    #: Point action types added to core's.
    point_action_types: providers.Provider[Sequence[BasePointActionType[Any]]] | providers.List = (
        providers.List()
    )
    #: Handlers subscribed to core's event bus when the core container starts.
    event_subscribers: providers.Provider[Sequence[EventSubscriber]] | providers.List = (
        providers.List()
    )
    #: Job kinds the workers and the embedded runner run.
    job_kinds: providers.Provider[Sequence[BaseJobKind]] | providers.List = providers.List()
    #: What the plugin stores about a contact, shown on the API's ``Contact``.
    contact_data: providers.Provider[Sequence[BaseContactData]] | providers.List = providers.List()
    #: The receiver the gateway mounts at ``/webhooks/<name>``.
    webhook_app: providers.Provider[WebhookApp | None] = providers.Object(None)
    #: ``leadbridge demo``'s workspace for the plugin.
    demo: providers.Provider[BaseDemo | None] = providers.Object(None)


#: Every provider name core reads from a plugin's container.
CONTRACT = (
    "plugin_api",
    "integration",
    "migrations",
    "cli",
    "exchange",
    "segment_filters",
    "point_action_types",
    "event_subscribers",
    "job_kinds",
    "contact_data",
    "webhook_app",
    "demo",
)
#: The providers core reads from the class itself, before any container is mounted.
CLASS_PROVIDERS = ("plugin_api", "migrations", "cli")


def check_plugin_container(
    container_class: type[containers.DeclarativeContainer], plugin: str
) -> type[BasePluginContainer]:
    """``container_class`` as a :class:`BasePluginContainer`; raises naming the wrong piece.

    Checks the declarations only (no provider is called): the base class, ``core``, the
    required ``integration``, that every contract name is a provider (``Object`` where core
    reads it from the class) and that ``migrations`` and ``cli`` hold the right kind of value.
    """

    def refuse(problem: str) -> ConfigurationError:
        return ConfigurationError(f"integration plugin {plugin!r}: {problem}")

    name = container_class.__name__
    if not issubclass(container_class, BasePluginContainer):
        raise refuse(
            f"{name} must subclass leadbridge.integrations.BasePluginContainer "
            "(the plugin container of plugin API 1.0)"
        )
    if not isinstance(container_class.providers.get("core"), providers.DependenciesContainer):
        raise refuse(f"{name}.core must be providers.DependenciesContainer()")
    if "integration" not in container_class.providers:
        raise refuse(f"{name} declares no 'integration' provider (required)")
    for attr in CONTRACT:
        value = getattr(container_class, attr, None)
        if value is not None and not isinstance(value, providers.Provider):
            raise refuse(
                f"{name}.{attr} must be a provider, not {type(value).__name__} "
                f"(e.g. {attr} = providers.Object(...))"
            )
    for attr in CLASS_PROVIDERS:
        if attr in container_class.providers and not isinstance(
            container_class.providers[attr], providers.Object
        ):
            raise refuse(f"{name}.{attr} must be a providers.Object: core reads it from the class")
    migrations = container_class.migrations()
    if migrations is not None and not isinstance(migrations, str | Path):
        raise refuse(f"{name}.migrations must provide a Path, not {type(migrations).__name__}")
    cli = container_class.cli()
    if cli is not None and not callable(cli):
        raise refuse(f"{name}.cli must provide a register(app) function, not {cli!r}")
    return container_class
