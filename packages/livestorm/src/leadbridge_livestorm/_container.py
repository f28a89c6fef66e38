from __future__ import annotations

from dependency_injector import containers, providers


class LivestormContainer(containers.DeclarativeContainer):
    """The Livestorm plugin's container; core mounts it with its own providers as ``core``."""

    core = providers.DependenciesContainer()
