"""The plugin contract is ``BasePluginContainer``: core refuses a container that breaks it,
naming the plugin and the piece, and loads the other plugins.

The plugins here are installed distributions on ``sys.path`` (see ``_installed.py``).
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import pytest

from leadbridge import ConfigurationError, CoreContainer
from leadbridge.integrations import BasePluginContainer, IntegrationRegistry

from ._installed import install_plugins

PLUGINS = """
from pathlib import Path

from dependency_injector import containers, providers
from leadbridge_example import ExampleIntegration
from leadbridge.integrations import BasePluginContainer


def integration(name):
    return providers.Singleton(type(f"{name}Integration", (ExampleIntegration,), {"name": name}))


class Minimal(BasePluginContainer):
    plugin_api = providers.Object("1.0")
    integration = integration("minimal")


class Untyped(containers.DeclarativeContainer):  # the names alone are no longer the contract
    core = providers.DependenciesContainer()
    plugin_api = providers.Object("1.0")
    integration = integration("untyped")


class NoIntegration(BasePluginContainer):
    plugin_api = providers.Object("1.0")


class MigrationsBuilt(BasePluginContainer):
    plugin_api = providers.Object("1.0")
    integration = integration("migrations_built")
    migrations = providers.Singleton(Path, "versions")


class ExchangeNotAProvider(BasePluginContainer):
    plugin_api = providers.Object("1.0")
    integration = integration("exchange_attribute")
    exchange = "an exchange"


class CliNotCallable(BasePluginContainer):
    plugin_api = providers.Object("1.0")
    integration = integration("cli_text")
    cli = providers.Object("leadbridge_acme:register")


class Mistyped(BasePluginContainer):
    plugin_api = providers.Object("1.0")
    integration = integration("mistyped")
    exchange = providers.Object("an exchange")
    segment_filters = providers.List(providers.Object("a filter"))
    event_subscribers = providers.List(providers.Object(("ContactCreated", print)))
"""

TARGETS = {
    "minimal": "Minimal",
    "untyped": "Untyped",
    "no_integration": "NoIntegration",
    "migrations_built": "MigrationsBuilt",
    "exchange_attribute": "ExchangeNotAProvider",
    "cli_text": "CliNotCallable",
    "mistyped": "Mistyped",
}


@pytest.fixture
def registry(
    container: CoreContainer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> IntegrationRegistry:
    module = f"contract_plugins_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{module}.py").write_text(PLUGINS)
    targets = {name: f"{module}:{cls}" for name, cls in TARGETS.items()}
    return IntegrationRegistry(container, group=install_plugins(tmp_path, monkeypatch, targets))


def test_a_minimal_plugin_gets_every_optional_provider_empty(
    registry: IntegrationRegistry,
) -> None:
    loaded = registry.get("minimal")
    assert loaded.plugin_api == "1.0"
    assert loaded.exchange() is None and loaded.demo() is None and loaded.webhook_app() is None
    assert loaded.segment_filters() == [] and loaded.job_kinds() == []
    assert loaded.event_subscribers() == [] and loaded.contact_data() == []
    assert "minimal" not in {e.name for e in registry.errors}


def test_broken_declarations_are_refused_at_load_naming_plugin_and_piece(
    registry: IntegrationRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="leadbridge.integrations"):
        errors = {e.name: e.error for e in registry.errors}
    assert "integration plugin 'untyped': Untyped must subclass " in errors["untyped"]
    assert "leadbridge.integrations.BasePluginContainer" in errors["untyped"]
    assert "NoIntegration declares no 'integration' provider" in errors["no_integration"]
    assert "MigrationsBuilt.migrations must be a providers.Object" in errors["migrations_built"]
    assert (
        "ExchangeNotAProvider.exchange must be a provider, not str" in errors["exchange_attribute"]
    )
    assert "CliNotCallable.cli must provide a register(app) function" in errors["cli_text"]
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert all(f"'{name}'" in logged for name in errors)
    # The broken plugins are left out; the others load.
    assert registry.names() == ["minimal", "mistyped"]
    with pytest.raises(ConfigurationError, match=r"'untyped' failed to load.*BasePluginContainer"):
        registry.get("untyped")


def test_a_mistyped_value_is_refused_when_read_naming_plugin_and_piece(
    registry: IntegrationRegistry,
) -> None:
    loaded = registry.get("mistyped")
    with pytest.raises(
        ConfigurationError,
        match="integration plugin 'mistyped': exchange must provide a BaseDataExchange, not str",
    ):
        loaded.exchange()
    # Collected contributions: the mistyped plugin's are recorded and skipped.
    assert registry.segment_filters() == []
    assert registry.event_subscribers() == []
    errors = {e.name: e.error for e in registry.errors}
    assert errors["mistyped"] == (
        "segment_filters: ConfigurationError: integration plugin 'mistyped': segment_filters "
        "must provide BaseSegmentFilter instances, not str"
    )


def test_the_example_plugin_is_a_typed_container() -> None:
    from leadbridge_example import ExampleContainer

    assert issubclass(ExampleContainer, BasePluginContainer)
