"""Starting syncs by integration name."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from .._errors import ConfigurationError, NotFoundError
from ..integrations import IntegrationRegistry, IntegrationSettingsService
from ._engine import StartedSync, SyncEngine
from ._exchange import BaseDataExchange
from ._manual import MappingManual
from ._options import SyncOptions, SyncTrigger
from ._results import SyncResult
from ._run_state import ProgressCallback


@dataclass(frozen=True)
class SyncTarget:
    """What a sync of one integration needs: its data exchange and its mapping manual."""

    exchange: BaseDataExchange
    manual: MappingManual


#: Builds a target by name; may be async.
SyncTargetFactory = Callable[[], SyncTarget | Awaitable[SyncTarget]]
#: Finds the target of an integration name.
TargetResolver = Callable[[str], Awaitable[SyncTarget]]

_TARGETS: dict[str, SyncTargetFactory] = {}


def register_sync_target(name: str, factory: SyncTargetFactory) -> None:
    """Make ``leadbridge sync run NAME`` (and :meth:`SyncService.start`) find ``NAME``.

    Used by embedders and tests to sync an exchange that is not an installed integration
    plugin; installed plugins are found through the integration registry.
    """
    _TARGETS[name] = factory


def unregister_sync_target(name: str) -> None:
    _TARGETS.pop(name, None)


async def resolve_registered_target(name: str) -> SyncTarget:
    """The target registered under ``name`` (the one place integration names are resolved)."""
    factory = _TARGETS.get(name)
    if factory is None:
        known = ", ".join(sorted(_TARGETS)) or "none"
        raise NotFoundError(f"integration {name!r} is not available for sync (known: {known})")
    made = factory()
    target = await made if inspect.isawaitable(made) else made
    if not isinstance(target, SyncTarget):
        raise TypeError(f"the sync target factory of {name!r} returned {type(target).__name__}")
    return target


class RegistryTargetResolver:
    """Resolves an installed integration plugin: its ``exchange`` provider and its stored
    settings (enabled, field mappings, conflict winner, first sync date).

    Exchanges registered with :func:`register_sync_target` come first, so an embedding
    application (or a test) can sync an exchange that is not a plugin.
    """

    def __init__(self, registry: IntegrationRegistry, settings: IntegrationSettingsService):
        self._registry = registry
        self._settings = settings

    async def __call__(self, name: str) -> SyncTarget:
        if name in _TARGETS:
            return await resolve_registered_target(name)
        loaded = self._registry.get(name)  # UnknownIntegrationError names what is installed
        exchange = loaded.exchange()
        if exchange is None:
            raise ConfigurationError(f"integration {name!r} does not sync (it has no exchange)")
        if not isinstance(exchange, BaseDataExchange):
            raise ConfigurationError(
                f"integration {name!r}: its exchange is a {type(exchange).__name__}, "
                "not a leadbridge.sync.BaseDataExchange"
            )
        stored = await self._settings.get(name)
        if not stored.enabled:
            raise ConfigurationError(
                f"integration {name!r} is disabled; enable it with "
                f"`leadbridge integrations configure {name} --enable`"
            )
        manual = MappingManual.build(
            name,
            {obj: mappings for obj, mappings in stored.mappings.items() if mappings},
            conflict_winner=stored.conflict_winner,
            first_sync_from=stored.first_sync_from,
        )
        if not manual.objects:
            raise ConfigurationError(
                f"integration {name!r} maps no field; set a mapping with "
                f"`leadbridge integrations mapping {name} …`"
            )
        return SyncTarget(exchange, manual)


class SyncService:
    """Starts syncs by integration name: what the CLI, the gateway and schedulers call."""

    def __init__(self, engine: SyncEngine, resolve: TargetResolver = resolve_registered_target):
        self._engine = engine
        self._resolve = resolve

    async def start(
        self,
        integration_name: str,
        options: SyncOptions | None = None,
        trigger: SyncTrigger | str = SyncTrigger.API,
        *,
        progress: ProgressCallback | None = None,
        run_id: int | None = None,
        stop: asyncio.Event | None = None,
    ) -> SyncResult:
        """Resolve the integration, run its sync to the end and return the result.

        ``run_id`` and ``stop``: see :meth:`SyncEngine.run` (how a job queue runs a sync).
        """
        started = await self.begin(
            integration_name, options, trigger, progress=progress, run_id=run_id, stop=stop
        )
        return await started.execute()

    async def begin(
        self,
        integration_name: str,
        options: SyncOptions | None = None,
        trigger: SyncTrigger | str = SyncTrigger.API,
        *,
        progress: ProgressCallback | None = None,
        run_id: int | None = None,
        stop: asyncio.Event | None = None,
    ) -> StartedSync:
        """Resolve the integration and start its run (see :meth:`SyncEngine.begin`): the run
        is recorded and holds the lease; ``await started.execute()`` runs it to its end."""
        target = await self._resolve(integration_name)
        return await self._engine.begin(
            target.exchange,
            target.manual,
            options,
            trigger=trigger,
            progress=progress,
            run_id=run_id,
            stop=stop,
        )

    async def target(self, integration_name: str) -> SyncTarget:
        """What a sync of ``integration_name`` would use; raises what a start would (unknown,
        disabled, nothing mapped) — a job queue checks before queueing."""
        return await self._resolve(integration_name)

    async def cancel(self, run_id: int) -> None:
        await self._engine.cancel(run_id)
