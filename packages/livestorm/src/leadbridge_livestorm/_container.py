from __future__ import annotations

from pathlib import Path

from dependency_injector import containers, providers

from ._cli import register
from ._integration import LivestormIntegration

#: The plugin's Alembic version directory (branch label ``livestorm``).
MIGRATIONS = Path(__file__).parent / "migrations" / "versions"


class LivestormContainer(containers.DeclarativeContainer):
    """The Livestorm plugin's container; core mounts it with its own providers as ``core``."""

    core = providers.DependenciesContainer()

    integration = providers.Singleton(LivestormIntegration)
    migrations = providers.Object(MIGRATIONS)
    cli = providers.Object(register)
