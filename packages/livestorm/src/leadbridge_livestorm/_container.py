from __future__ import annotations

from pathlib import Path

from dependency_injector import containers, providers

#: The plugin's Alembic version directory (branch label ``livestorm``).
MIGRATIONS = Path(__file__).parent / "migrations" / "versions"


class LivestormContainer(containers.DeclarativeContainer):
    """The Livestorm plugin's container; core mounts it with its own providers as ``core``."""

    core = providers.DependenciesContainer()

    migrations = providers.Object(MIGRATIONS)
