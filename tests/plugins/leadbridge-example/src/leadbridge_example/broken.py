"""A plugin that cannot be imported: core must report it by name and carry on."""

import leadbridge_example_missing_dependency  # noqa: F401
from dependency_injector import containers, providers


class BrokenContainer(containers.DeclarativeContainer):
    core = providers.DependenciesContainer()
