"""The integration framework: what an integration declares, plugin discovery, stored settings.

Plugin authors subclass :class:`BaseIntegration` and :class:`BasePluginContainer` (the typed
plugin contract) and register the container in the entry point group ``leadbridge.integrations``
(see "Writing an integration" in the core README).
"""

from ._api_version import PLUGIN_API_VERSION
from ._base import (
    ALL_DIRECTIONS,
    BaseIntegration,
    Direction,
    Feature,
    FieldMapping,
    IntegrationField,
    NoCredentials,
    NoSettings,
    ObjectSpec,
)
from ._contact_data import BaseContactData, ColumnType, DataColumn, check_contact_data
from ._demo import BaseDemo, DemoPointAction, DemoSegment, DemoSetup
from ._mapping import TYPE_COMPATIBILITY, types_compatible, validate_mappings
from ._models import IntegrationRow
from ._plugin_container import BasePluginContainer, CliRegistrar, EventSubscriber, WebhookApp
from ._registry import (
    ENTRY_POINT_GROUP,
    IntegrationRegistry,
    LoadedIntegration,
    PluginLoadError,
    UnknownIntegrationError,
    installed_cli_registrars,
    installed_migration_locations,
    parse_plugins,
)
from ._service import ConflictWinner, IntegrationSettings, IntegrationSettingsService

__all__ = [
    "ALL_DIRECTIONS",
    "ENTRY_POINT_GROUP",
    "PLUGIN_API_VERSION",
    "TYPE_COMPATIBILITY",
    "BaseContactData",
    "BaseDemo",
    "BaseIntegration",
    "BasePluginContainer",
    "CliRegistrar",
    "ColumnType",
    "ConflictWinner",
    "DataColumn",
    "DemoPointAction",
    "DemoSegment",
    "DemoSetup",
    "Direction",
    "EventSubscriber",
    "Feature",
    "FieldMapping",
    "IntegrationField",
    "IntegrationRegistry",
    "IntegrationRow",
    "IntegrationSettings",
    "IntegrationSettingsService",
    "LoadedIntegration",
    "NoCredentials",
    "NoSettings",
    "ObjectSpec",
    "PluginLoadError",
    "UnknownIntegrationError",
    "WebhookApp",
    "check_contact_data",
    "installed_cli_registrars",
    "installed_migration_locations",
    "parse_plugins",
    "types_compatible",
    "validate_mappings",
]
