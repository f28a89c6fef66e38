"""The plugin API version core speaks, and the check a plugin's declared version must pass."""

from __future__ import annotations

from dependency_injector import containers, providers

from .._errors import ConfigurationError

#: The version of the plugin API (``MAJOR.MINOR``) this core speaks: the entry point groups,
#: the plugin container's providers, the ``Base*`` classes and the public names plugins
#: import. A minor release only adds; a major release may remove or change, and core refuses
#: a plugin built for another major version. A plugin declares the version it was built for
#: as ``plugin_api = providers.Object("1.0")`` on its container.
PLUGIN_API_VERSION = "1.0"


def _major(version: object) -> int | None:
    if not isinstance(version, str):
        return None
    major, dot, minor = version.partition(".")
    if not (dot and major.isdigit() and minor.isdigit()):
        return None
    return int(major)


def check_plugin_api(container_class: type[containers.DeclarativeContainer], plugin: str) -> str:
    """The plugin API version ``container_class`` declares; raises if core cannot load it.

    :class:`~leadbridge.ConfigurationError` naming the plugin and both versions when the
    plugin declares no ``plugin_api``, a malformed one, or one of another major version.
    """
    provider = container_class.providers.get("plugin_api")
    if not isinstance(provider, providers.Object):
        raise ConfigurationError(
            f"integration plugin {plugin!r} declares no plugin API version (core speaks "
            f"{PLUGIN_API_VERSION}): add plugin_api = providers.Object({PLUGIN_API_VERSION!r}) "
            f"to {container_class.__name__}"
        )
    declared = provider()
    major = _major(declared)
    if major is None:
        raise ConfigurationError(
            f"integration plugin {plugin!r} declares plugin API version {declared!r}, which is "
            f"not MAJOR.MINOR (core speaks {PLUGIN_API_VERSION})"
        )
    if major != _major(PLUGIN_API_VERSION):
        raise ConfigurationError(
            f"integration plugin {plugin!r} was built for plugin API {declared}, but this core "
            f"speaks plugin API {PLUGIN_API_VERSION}: install a release of the plugin built "
            f"for {PLUGIN_API_VERSION}"
        )
    return str(declared)
