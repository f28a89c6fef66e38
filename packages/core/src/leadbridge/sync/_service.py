"""Starting syncs by integration name."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from .._errors import NotFoundError
from ._engine import ProgressCallback, SyncEngine
from ._exchange import BaseDataExchange
from ._manual import MappingManual
from ._options import SyncOptions, SyncResult, SyncTrigger


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
    made: Any = factory()
    if inspect.isawaitable(made):
        made = await made
    if not isinstance(made, SyncTarget):
        raise TypeError(f"the sync target factory of {name!r} returned {type(made).__name__}")
    return made


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
    ) -> SyncResult:
        """Resolve the integration, run its sync to the end and return the result."""
        target = await self._resolve(integration_name)
        return await self._engine.run(
            target.exchange, target.manual, options, trigger=trigger, progress=progress
        )

    async def cancel(self, run_id: int) -> None:
        await self._engine.cancel(run_id)
