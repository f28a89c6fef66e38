"""Plugin discovery: entry points → plugin containers mounted with core's providers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

from dependency_injector import containers, providers

from .._errors import ConfigurationError, NotFoundError, ValidationError
from ..events import Event, EventBus
from ._api_version import check_plugin_api
from ._base import BaseIntegration, check_integration
from ._contact_data import BaseContactData, check_contact_data, check_unique

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
    """A mounted plugin: its integration instance and its container."""

    name: str
    integration: BaseIntegration
    container: containers.Container = field(repr=False)
    distribution: str | None = None

    def has(self, provider_name: str) -> bool:
        """Whether the plugin container declares ``provider_name`` (``exchange``, ``cli`` …)."""
        return provider_name in self.container.providers

    def provide(self, provider_name: str) -> Any:
        """Call the plugin container's ``provider_name``; ``None`` when it declares none."""
        provider = self.container.providers.get(provider_name)
        return None if provider is None else provider()

    def exchange(self) -> Any:
        """The plugin's sync data exchange (its ``exchange`` provider), or ``None``."""
        return self.provide("exchange")


def parse_plugins(value: str | None) -> tuple[str, ...] | None:
    """``"livestorm, example"`` → ``("livestorm", "example")``; empty or unset → ``None`` (all)."""
    names = tuple(n.strip() for n in (value or "").split(",") if n.strip())
    return names or None


def _entry_points(group: str) -> list[EntryPoint]:
    return sorted(entry_points(group=group), key=lambda ep: ep.name)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def load_container_class(ep: EntryPoint) -> type[containers.DeclarativeContainer]:
    """Import the container class an entry point names and check its shape."""
    cls = ep.load()
    if not (isinstance(cls, type) and issubclass(cls, containers.DeclarativeContainer)):
        raise ConfigurationError(
            f"entry point {ep.name!r} names {ep.value}, which is not a DeclarativeContainer class"
        )
    core = cls.providers.get("core")
    if not isinstance(core, providers.DependenciesContainer):
        raise ConfigurationError(
            f"{cls.__name__} must declare core = providers.DependenciesContainer()"
        )
    return cls


def _class_objects(
    attr: str,
    plugins: Collection[str] | None,
    level: int = logging.WARNING,
    *,
    check_api: bool = True,
) -> list[tuple[str, Any]]:
    """``(plugin, value)`` of each container class whose ``attr`` is a ``providers.Object``.

    Reads the classes only (no container is mounted), so it works before core is configured.
    A plugin that fails to import, or (with ``check_api``) was built for another major version
    of the plugin API, is logged at ``level`` and skipped.
    """
    out: list[tuple[str, Any]] = []
    for ep in _entry_points(ENTRY_POINT_GROUP):
        if plugins is not None and ep.name not in plugins:
            continue
        try:
            cls = load_container_class(ep)
            if check_api:
                check_plugin_api(cls, ep.name)
        except Exception as exc:  # a broken plugin must not take core down
            log.log(level, "integration plugin %r failed to load: %s", ep.name, _describe(exc))
            continue
        provider = cls.providers.get(attr)
        if isinstance(provider, providers.Object):
            out.append((ep.name, provider()))
        elif provider is not None:
            log.log(
                level,
                "integration plugin %r: %r must be a providers.Object to be read here",
                ep.name,
                attr,
            )
    return out


def installed_migration_locations() -> list[Path]:
    """Alembic version directories of every installed plugin (its ``migrations`` provider).

    Every installed plugin counts, whatever ``LEADBRIDGE_PLUGINS`` says: once a branch has been
    applied, Alembic must find its revisions to read the database's history at all, whatever
    plugin API version the plugin was built for.
    """
    return [Path(value) for _, value in _class_objects("migrations", None, check_api=False)]


def installed_cli_registrars(
    plugins: Collection[str] | None = None,
) -> list[tuple[str, Callable[[Any], None]]]:
    """``(plugin, register)`` of each plugin's ``cli`` provider, where ``register(app)``.

    Failures are logged at debug level only: the CLI starts before logging is configured, and
    ``leadbridge integrations list`` reports broken plugins.
    """
    return list(_class_objects("cli", plugins, logging.DEBUG))


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
        cls = load_container_class(ep)
        check_plugin_api(cls, ep.name)
        if "integration" not in cls.providers:
            raise ConfigurationError(f"{cls.__name__} declares no 'integration' provider")
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

    def collect(self, provider_name: str) -> list[Any]:
        """Concatenate the ``provider_name`` lists of every loaded plugin, in name order.

        A plugin whose provider raises is recorded in :attr:`errors` and skipped.
        """
        out: list[Any] = []
        for loaded in self.all():
            if not loaded.has(provider_name):
                continue
            try:
                out.extend(loaded.provide(provider_name))
            except Exception as exc:  # one plugin's bug must not hide the others' parts
                self._record(loaded.name, f"{provider_name}: {_describe(exc)}")
        return out

    def segment_filters(self) -> list[Any]:
        return self.collect("segment_filters")

    def point_action_types(self) -> list[Any]:
        return self.collect("point_action_types")

    def contact_data(self) -> list[BaseContactData]:
        """Every loaded plugin's ``contact_data``, checked (:func:`check_contact_data`).

        A plugin whose provider raises is recorded in :attr:`errors` and skipped; a bad
        declaration, or a field or type name two plugins use, raises
        :class:`ConfigurationError` naming the plugin and the field.
        """
        found: list[tuple[str, BaseContactData]] = []
        for loaded in self.all():
            if not loaded.has("contact_data"):
                continue
            try:
                items = list(loaded.provide("contact_data"))
            except Exception as exc:  # one plugin's bug must not hide the others' data
                self._record(loaded.name, f"contact_data: {_describe(exc)}")
                continue
            found += [(loaded.name, check_contact_data(item, loaded.name)) for item in items]
        check_unique(found)
        return [item for _, item in found]

    def event_subscribers(self) -> list[tuple[type[Event], Callable[[Any], Any]]]:
        subscribers: list[tuple[type[Event], Callable[[Any], Any]]] = []
        for item in self.collect("event_subscribers"):
            if (
                not isinstance(item, tuple)
                or len(item) != 2
                or not (isinstance(item[0], type) and issubclass(item[0], Event))
                or not callable(item[1])
            ):
                raise ConfigurationError(
                    f"event subscribers must be (EventType, async handler) tuples, got {item!r}"
                )
            subscribers.append(item)
        return subscribers

    def subscribe_all(self, event_bus: EventBus) -> int:
        """Subscribe every plugin's event subscribers to ``event_bus``; returns how many."""
        subscribers = self.event_subscribers()
        for event_type, handler in subscribers:
            event_bus.subscribe(event_type, handler)
        return len(subscribers)

    def migration_locations(self) -> list[Path]:
        """Version directories of the loaded plugins (``migrations`` providers)."""
        return [Path(p) for p in self._provided("migrations")]

    def cli_registrars(self) -> list[Callable[[Any], None]]:
        return list(self._provided("cli"))

    def _provided(self, provider_name: str) -> Iterable[Any]:
        for loaded in self.all():
            if loaded.has(provider_name):
                yield loaded.provide(provider_name)
