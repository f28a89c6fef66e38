from __future__ import annotations

from pathlib import Path

from dependency_injector import providers

from leadbridge.events import ContactCreated
from leadbridge.integrations import BasePluginContainer

from ._cli import register
from ._integration import ExampleIntegration
from ._parts import HasWidgetFilter, WidgetAddedType
from ._widgets import WidgetRepository, remember_contact


class ExampleContainer(BasePluginContainer):
    core = providers.DependenciesContainer()
    plugin_api = providers.Object("1.0")  # the plugin API version this plugin was built for

    integration = providers.Singleton(ExampleIntegration)
    widgets = providers.Singleton(WidgetRepository, session_factory=core.session_factory)

    migrations = providers.Object(Path(__file__).parent / "migrations" / "versions")
    cli = providers.Object(register)
    segment_filters = providers.List(providers.Singleton(HasWidgetFilter))
    point_action_types = providers.List(providers.Singleton(WidgetAddedType))
    event_subscribers = providers.List(providers.Object((ContactCreated, remember_contact)))
