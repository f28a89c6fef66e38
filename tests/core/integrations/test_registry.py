from __future__ import annotations

import logging
from pathlib import Path

import pytest
from dependency_injector import providers
from leadbridge_example import SEEN_CONTACTS, ExampleIntegration, WidgetRepository
from leadbridge_example._widgets import remember_contact

from leadbridge import (
    ConfigurationError,
    CoreContainer,
    NotFoundError,
    Settings,
    ValidationError,
)
from leadbridge.events import ContactCreated
from leadbridge.integrations import (
    BaseIntegration,
    Feature,
    IntegrationRegistry,
    UnknownIntegrationError,
    installed_migration_locations,
)
from leadbridge.integrations._base import check_integration


async def test_example_is_discovered_and_mounted_with_core(
    container: CoreContainer, registry: IntegrationRegistry
) -> None:
    loaded = registry.get("example")
    assert isinstance(loaded.integration, ExampleIntegration)
    assert loaded.distribution == "leadbridge-example"
    assert "example" in registry.names()
    assert loaded in registry.all()
    assert loaded.integration.features >= {Feature.SYNC_PULL, Feature.SYNC_PUSH}
    # The plugin's own providers get core's through `core = DependenciesContainer()`.
    assert loaded.container.core.session_factory() is container.session_factory()
    widgets = loaded.container.widgets()
    assert isinstance(widgets, WidgetRepository)
    await widgets.add("sprocket")  # its table exists: the plugin branch was migrated
    assert await widgets.names() == ["sprocket"]


def test_registry_is_a_container_singleton(container: CoreContainer) -> None:
    assert container.integration_registry() is container.integration_registry()


def test_broken_plugin_is_reported_by_name_and_core_carries_on(
    container: CoreContainer, caplog: pytest.LogCaptureFixture
) -> None:
    registry = IntegrationRegistry(container)  # loads here (the container's loaded at start)
    with caplog.at_level(logging.WARNING, logger="leadbridge.integrations"):
        errors = {e.name: e.error for e in registry.errors}
    assert "leadbridge_example_missing_dependency" in errors["broken"]
    assert "ModuleNotFoundError" in errors["broken"]
    assert any("'broken'" in r.getMessage() for r in caplog.records)
    assert "broken" not in registry.names()
    assert registry.get("example").name == "example"
    with pytest.raises(ConfigurationError, match=r"broken.*failed to load.*missing_dependency"):
        registry.get("broken")


def test_unknown_integration_is_not_found_and_invalid(registry: IntegrationRegistry) -> None:
    with pytest.raises(UnknownIntegrationError) as info:
        registry.get("nope")
    assert isinstance(info.value, NotFoundError)
    assert isinstance(info.value, ValidationError)
    assert info.value.field == "integration" and "'nope'" in str(info.value)


def test_plugins_restrict_loading(container: CoreContainer) -> None:
    only_example = IntegrationRegistry(container, plugins=["example"])
    assert only_example.names() == ["example"]
    assert only_example.errors == []  # the broken plugin is not even imported

    only_broken = IntegrationRegistry(container, plugins=["broken"])
    assert only_broken.names() == []
    assert [e.name for e in only_broken.errors] == ["broken"]
    with pytest.raises(UnknownIntegrationError, match="LEADBRIDGE_PLUGINS"):
        only_broken.get("example")

    typo = IntegrationRegistry(container, plugins=["example", "exmaple"])
    assert typo.names() == ["example"]
    assert {e.name: e.error for e in typo.errors} == {
        "exmaple": "named in LEADBRIDGE_PLUGINS but not installed"
    }


def test_leadbridge_plugins_variable_reaches_the_container_registry(
    settings: Settings, tmp_path: Path
) -> None:
    env = {
        "LEADBRIDGE_DATABASE_URL": settings.database_url,
        "LEADBRIDGE_DATA_DIR": str(tmp_path),
        "LEADBRIDGE_SECRET_KEY": settings.secret_key,
        "LEADBRIDGE_PLUGINS": " example , ",
    }
    from_env = Settings.from_env(env)
    assert from_env.plugins == ("example",)
    container = CoreContainer(settings=providers.Object(from_env))
    registry = container.integration_registry()
    assert registry.names() == ["example"] and registry.errors == []
    assert Settings.from_env({**env, "LEADBRIDGE_PLUGINS": ""}).plugins is None


async def test_plugin_contributions_are_collected(
    container: CoreContainer, registry: IntegrationRegistry
) -> None:
    assert "example.has_widget" in [f.key for f in registry.segment_filters()]
    assert "example.widget_added" in [t.key for t in registry.point_action_types()]
    assert (ContactCreated, remember_contact) in registry.event_subscribers()
    # The container fixture started the container: the subscribers hear core's events.
    contact = await container.contact_service().create("ann@example.com")
    assert [contact.id] == SEEN_CONTACTS


def test_migration_locations_are_read_without_a_container(registry: IntegrationRegistry) -> None:
    example_dir = Path(__import__("leadbridge_example").__file__).parent / "migrations/versions"
    assert example_dir in installed_migration_locations()
    assert example_dir in registry.migration_locations()
    assert (example_dir / "example_0001_widgets.py").exists()


def test_icon_is_read_from_the_package(registry: IntegrationRegistry) -> None:
    icon = registry.get("example").integration.icon_bytes()
    assert icon is not None and icon.startswith(b"<svg")


def test_inconsistent_integrations_are_refused_at_mount() -> None:
    with pytest.raises(ConfigurationError, match=r"entry point 'other' provides.*'example'"):
        check_integration(ExampleIntegration(), "other")
    with pytest.raises(ConfigurationError, match="not a BaseIntegration"):
        check_integration(object(), "example")

    class Twice(ExampleIntegration):
        def objects(self):  # type: ignore[no-untyped-def]
            return [*super().objects(), super().objects()[0]]

    with pytest.raises(ConfigurationError, match="object 'people' twice"):
        check_integration(Twice(), "example")

    class Nameless(BaseIntegration):
        def objects(self):  # type: ignore[no-untyped-def]
            return []

    with pytest.raises(ConfigurationError, match="'name'"):
        check_integration(Nameless(), "example")


def test_a_failing_contribution_is_reported_and_skipped(registry: IntegrationRegistry) -> None:
    def boom() -> list[str]:
        raise RuntimeError("filters exploded")

    registry.get("example").container.segment_filters.override(providers.Callable(boom))
    assert "example.has_widget" not in [f.key for f in registry.segment_filters()]
    errors = {e.name: e.error for e in registry.errors}
    assert errors["example"] == "segment_filters: RuntimeError: filters exploded"
    assert "example.widget_added" in [t.key for t in registry.point_action_types()]  # the rest


async def test_core_services_receive_plugin_contributions(container: CoreContainer) -> None:
    points = container.points_service()
    assert points.action_types.get("example.widget_added").key == "example.widget_added"
    # Starting the container subscribed the plugins' event subscribers to the bus.
    SEEN_CONTACTS.clear()
    contact = await container.contact_service().create("bo@example.com")
    assert [contact.id] == SEEN_CONTACTS
    await container.integration_registry().get("example").container.widgets().add(str(contact.id))
    has_widget = [{"field": "example.has_widget", "operator": "=", "value": True}]
    assert await container.segment_service().preview_count(has_widget) == 1
