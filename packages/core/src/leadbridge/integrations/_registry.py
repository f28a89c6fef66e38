"""Plugin discovery: entry points → plugin containers mounted with core's providers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from dependency_injector import containers, providers

from .._errors import ConfigurationError, NotFoundError, ValidationError
from ..events import Event
from ..points import BasePointActionType
from ..segments import BaseSegmentFilter
from ._api_version import check_plugin_api
from ._base import BaseIntegration, check_integration
from ._contact_data import BaseContactData, check_contact_data, check_unique
from ._demo import BaseDemo
from ._plugin_container import (
    BasePluginContainer,
    CliRegistrar,
    EventSubscriber,
    WebhookApp,
    check_plugin_container,
)

if TYPE_CHECKING:
    from ..jobs import BaseJobKind
    from ..sync import BaseDataExchange

T = TypeVar("T")

log = logging.getLogger("leadbridge.integrations")

#: The entry point group plugins register their container class in.
ENTRY_POINT_GROUP = "leadbridge.integrations"


class UnknownIntegrationError(NotFoundError, ValidationError):
    """No loaded integration has this name (not installed, or left out by LEADBRIDGE_PLUGINS).

    Both a :class:`NotFoundError` and a :class:`ValidationError` (``field="integration"``).
    """

    code = "NOT_FOUND"

    def __init__(self, message: str, *, value: str) -> None:
        ValidationError.__init__(self, message, field="integration", value=value)


@dataclass(frozen=True)
class PluginLoadError:
    """An installed plugin that could not be imported or mounted, and why."""

    name: str
    error: str


@dataclass(frozen=True, eq=False)
class LoadedIntegration:
    """A mounted plugin: its integration, its container, and what the container provides.

    Each accessor calls the container's provider of that name and checks the value against
    :class:`BasePluginContainer`'s contract: a mistyped one raises
    :class:`~leadbridge.ConfigurationError` naming the plugin and the provider.
    """

    name: str
    integration: BaseIntegration
    container: containers.Container = field(repr=False)
    distribution: str | None = None

    @property
    def plugin_api(self) -> str:
        """The plugin API version the plugin was built for."""
        return str(self.container.providers["plugin_api"]())

    def exchange(self) -> BaseDataExchange | None:
        """The plugin's sync data exchange, or ``None`` when it syncs nothing."""
        from ..sync import BaseDataExchange

        return cast("BaseDataExchange | None", self._single("exchange", BaseDataExchange))

    def demo(self) -> BaseDemo | None:
        """The plugin's ``leadbridge demo`` workspace, or ``None``."""
        return cast("BaseDemo | None", self._single("demo", BaseDemo))

    def webhook_app(self) -> WebhookApp | None:
        """The plugin's webhook receiver (an ASGI app or an async request handler), or ``None``."""
        app = self._provided("webhook_app", None)
        if app is not None and not callable(app):
            raise self._mistyped("webhook_app", app, "an ASGI app or an async request handler")
        return cast("WebhookApp | None", app)

    def segment_filters(self) -> list[BaseSegmentFilter]:
        return cast("list[BaseSegmentFilter]", self._sequence("segment_filters", BaseSegmentFilter))

    def point_action_types(self) -> list[BasePointActionType[Any]]:
        return cast(
            "list[BasePointActionType[Any]]",
            self._sequence("point_action_types", BasePointActionType),
        )

    def job_kinds(self) -> list[BaseJobKind]:
        from ..jobs import BaseJobKind

        return cast("list[BaseJobKind]", self._sequence("job_kinds", BaseJobKind))

    def contact_data(self) -> list[BaseContactData]:
        """The plugin's contact data, each checked by :func:`check_contact_data`."""
        return [
            check_contact_data(item, self.name) for item in self._sequence("contact_data", object)
        ]

    def event_subscribers(self) -> list[EventSubscriber]:
        subscribers = self._sequence("event_subscribers", tuple)
        for item in subscribers:
            if not (
                len(item) == 2
                and isinstance(item[0], type)
                and issubclass(item[0], Event)
                and callable(item[1])
            ):
                raise self._mistyped("event_subscribers", item, "(EventType, async handler) tuples")
        return cast("list[EventSubscriber]", subscribers)

    def _provided(self, piece: str, default: object) -> Any:
        provider = self.container.providers.get(piece)
        return default if provider is None else provider()

    def _single(self, piece: str, kind: type) -> object:
        value = self._provided(piece, None)
        if value is not None and not isinstance(value, kind):
            raise self._mistyped(piece, value, f"a {kind.__name__}")
        return value

    def _sequence(self, piece: str, kind: type) -> list[Any]:
        value = self._provided(piece, ())
        if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
            raise self._mistyped(piece, value, "a list")
        items = list(value)
        for item in items:
            if not isinstance(item, kind):
                raise self._mistyped(piece, item, f"{kind.__name__} instances")
        return items

    def _mistyped(self, piece: str, value: object, expected: str) -> ConfigurationError:
        return ConfigurationError(
            f"integration plugin {self.name!r}: {piece} must provide {expected}, "
            f"not {type(value).__name__}"
        )


def parse_plugins(value: str | None) -> tuple[str, ...] | None:
    """``"livestorm, example"`` → ``("livestorm", "example")``; empty or unset → ``None`` (all)."""
    names = tuple(n.strip() for n in (value or "").split(",") if n.strip())
    return names or None


def _entry_points(group: str) -> list[EntryPoint]:
    return sorted(entry_points(group=group), key=lambda ep: ep.name)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def load_container_class(ep: EntryPoint) -> type[containers.DeclarativeContainer]:
    """Import the container class an entry point names."""
    cls = ep.load()
    if not (isinstance(cls, type) and issubclass(cls, containers.DeclarativeContainer)):
        raise ConfigurationError(
            f"entry point {ep.name!r} names {ep.value}, which is not a DeclarativeContainer class"
        )
    return cls


def load_plugin_class(ep: EntryPoint) -> type[BasePluginContainer]:
    """Import the container class an entry point names; raises unless core can mount it.

    :class:`~leadbridge.ConfigurationError` naming the plugin for another major version of
    the plugin API, or a container that breaks :class:`BasePluginContainer`'s contract.
    """
    cls = load_container_class(ep)
    check_plugin_api(cls, ep.name)
    return check_plugin_container(cls, ep.name)


def _plugin_classes(
    plugins: Collection[str] | None, level: int
) -> Iterable[tuple[str, type[BasePluginContainer]]]:
    """``(plugin, class)`` of each loadable plugin, read without mounting any container.

    A plugin that fails to import or breaks the contract is logged at ``level`` and skipped.
    """
    for ep in _entry_points(ENTRY_POINT_GROUP):
        if plugins is not None and ep.name not in plugins:
            continue
        try:
            yield ep.name, load_plugin_class(ep)
        except Exception as exc:  # a broken plugin must not take core down
            log.log(level, "integration plugin %r failed to load: %s", ep.name, _describe(exc))


def installed_migration_locations() -> list[Path]:
    """Alembic version directories of every installed plugin (its ``migrations`` provider).

    Every installed plugin counts, whatever ``LEADBRIDGE_PLUGINS`` says: once a branch has been
    applied, Alembic must find its revisions to read the database's history at all, whatever
    plugin API version the plugin was built for (so the class is only imported, not checked).
    """
    locations: list[Path] = []
    for ep in _entry_points(ENTRY_POINT_GROUP):
        try:
            provider = load_container_class(ep).providers.get("migrations")
        except Exception as exc:  # a broken plugin must not take core down
            log.warning("integration plugin %r failed to load: %s", ep.name, _describe(exc))
            continue
        location = provider() if isinstance(provider, providers.Object) else None
        if isinstance(location, str | Path):
            locations.append(Path(location))
    return locations


def installed_cli_registrars(
    plugins: Collection[str] | None = None,
) -> list[tuple[str, CliRegistrar]]:
    """``(plugin, register)`` of each plugin's ``cli`` provider, where ``register(app)``.

    Failures are logged at debug level only: the CLI starts before logging is configured, and
    ``leadbridge integrations list`` reports broken plugins.
    """
    registrars: list[tuple[str, CliRegistrar]] = []
    for name, cls in _plugin_classes(plugins, logging.DEBUG):
        register = cls.cli()
        if register is not None:
            registrars.append((name, register))
    return registrars


class IntegrationRegistry:
    """The installed integrations, mounted with core's container.

    ``core`` is the container each plugin's ``core = providers.DependenciesContainer()`` is
    given; ``plugins`` restricts loading to these names (``None``: every installed plugin).
    Plugins load on first use. One that fails to import or to mount, or that was built for
    another major version of the plugin API (:data:`PLUGIN_API_VERSION`), is kept in
    :attr:`errors` (and logged as a warning) instead of raising.
    """

    def __init__(
        self,
        core: containers.Container,
        plugins: Collection[str] | None = None,
        group: str = ENTRY_POINT_GROUP,
    ) -> None:
        self._core = core
        self._only = frozenset(plugins) if plugins else None
        self._group = group
        self._loaded: dict[str, LoadedIntegration] | None = None
        self._errors: dict[str, PluginLoadError] = {}
        self._excluded: set[str] = set()

    def __repr__(self) -> str:
        state = "not loaded" if self._loaded is None else ", ".join(self._loaded) or "none"
        return f"<IntegrationRegistry {state}>"

    # -- loading ---------------------------------------------------------------------------

    def _record(self, name: str, error: str) -> None:
        log.warning("integration plugin %r failed to load: %s", name, error)
        self._errors.setdefault(name, PluginLoadError(name, error))

    def _mount(self, ep: EntryPoint) -> LoadedIntegration:
        cls = load_plugin_class(ep)
        container = cls(core=self._core)
        container.check_dependencies()
        integration = check_integration(container.integration(), ep.name)
        dist = getattr(ep, "dist", None)
        return LoadedIntegration(
            ep.name, integration, container, dist.name if dist is not None else None
        )

    def _ensure_loaded(self) -> dict[str, LoadedIntegration]:
        if self._loaded is not None:
            return self._loaded
        loaded: dict[str, LoadedIntegration] = {}
        seen: set[str] = set()
        for ep in _entry_points(self._group):
            if self._only is not None and ep.name not in self._only:
                self._excluded.add(ep.name)
                continue
            if ep.name in seen:
                self._record(ep.name, f"two installed plugins use the name (also {ep.value})")
                loaded.pop(ep.name, None)
                continue
            seen.add(ep.name)
            try:
                loaded[ep.name] = self._mount(ep)
            except Exception as exc:  # a broken plugin must not take core down
                self._record(ep.name, _describe(exc))
        for name in sorted((self._only or frozenset()) - seen):
            self._record(name, "named in LEADBRIDGE_PLUGINS but not installed")
        self._loaded = loaded
        return loaded

    # -- lookups ---------------------------------------------------------------------------

    def get(self, name: str) -> LoadedIntegration:
        loaded = self._ensure_loaded()
        if name in loaded:
            return loaded[name]
        if name in self._errors:
            raise ConfigurationError(
                f"integration {name!r} failed to load: {self._errors[name].error}"
            )
        if name in self._excluded:
            raise UnknownIntegrationError(
                f"integration {name!r} is installed but not loaded: LEADBRIDGE_PLUGINS "
                f"names only {', '.join(sorted(self._only or ()))}",
                value=name,
            )
        known = ", ".join(loaded) or "none installed"
        raise UnknownIntegrationError(
            f"integration {name!r} does not exist (integrations: {known})", value=name
        )

    def all(self) -> list[LoadedIntegration]:
        return list(self._ensure_loaded().values())

    def names(self) -> list[str]:
        return list(self._ensure_loaded())

    @property
    def errors(self) -> list[PluginLoadError]:
        self._ensure_loaded()
        return sorted(self._errors.values(), key=lambda e: e.name)

    # -- what plugins contribute -----------------------------------------------------------

    def _gather(self, piece: str, read: Callable[[LoadedIntegration], list[T]]) -> list[T]:
        """Concatenate ``read(loaded)`` of every loaded plugin, in name order.

        A plugin whose provider raises or gives a mistyped value is recorded in
        :attr:`errors` and skipped: one plugin's bug must not hide the others' parts.
        """
        out: list[T] = []
        for loaded in self.all():
            try:
                out.extend(read(loaded))
            except Exception as exc:
                self._record(loaded.name, f"{piece}: {_describe(exc)}")
        return out

    def segment_filters(self) -> list[BaseSegmentFilter]:
        return self._gather("segment_filters", LoadedIntegration.segment_filters)

    def point_action_types(self) -> list[BasePointActionType[Any]]:
        return self._gather("point_action_types", LoadedIntegration.point_action_types)

    def job_kinds(self) -> list[BaseJobKind]:
        return self._gather("job_kinds", LoadedIntegration.job_kinds)

    def event_subscribers(self) -> list[EventSubscriber]:
        """Every loaded plugin's ``(EventType, handler)`` pairs (the core container's start
        subscribes them)."""
        return self._gather("event_subscribers", LoadedIntegration.event_subscribers)

    def contact_data(self) -> list[BaseContactData]:
        """Every loaded plugin's ``contact_data``, checked (:func:`check_contact_data`).

        A plugin whose provider raises is recorded in :attr:`errors` and skipped; a bad
        declaration, or a field or type name two plugins use, raises
        :class:`ConfigurationError` naming the plugin and the field: the gateway refuses to
        start rather than serve a schema without them.
        """
        found: list[tuple[str, BaseContactData]] = []
        for loaded in self.all():
            try:
                items = loaded.contact_data()
            except ConfigurationError:
                raise
            except Exception as exc:  # one plugin's bug must not hide the others' data
                self._record(loaded.name, f"contact_data: {_describe(exc)}")
                continue
            found += [(loaded.name, item) for item in items]
        check_unique(found)
        return [item for _, item in found]

    def migration_locations(self) -> list[Path]:
        """Version directories of the loaded plugins (``migrations`` providers)."""
        found = (loaded.container.providers["migrations"]() for loaded in self.all())
        return [Path(location) for location in found if location is not None]

    def cli_registrars(self) -> list[CliRegistrar]:
        found = (loaded.container.providers["cli"]() for loaded in self.all())
        return [register for register in found if register is not None]
