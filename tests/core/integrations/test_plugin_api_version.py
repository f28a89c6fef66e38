"""Core refuses a plugin built for another major version of the plugin API, naming both.

The plugins here are real installed distributions: a ``*.dist-info`` with an
``entry_points.txt`` on ``sys.path``, found by :mod:`importlib.metadata` as pip's would be.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import pytest

from leadbridge import PLUGIN_API_VERSION, ConfigurationError, CoreContainer
from leadbridge.integrations import IntegrationRegistry

from ._installed import install_plugins

PLUGINS = """
from dependency_injector import providers
from leadbridge_example import ExampleIntegration
from leadbridge.integrations import BasePluginContainer


def container(name, plugin_api):
    integration = type(f"{name}Integration", (ExampleIntegration,), {"name": name})
    body = {"integration": providers.Singleton(integration)}
    if plugin_api is not None:
        body["plugin_api"] = providers.Object(plugin_api)
    return type(f"{name}Container", (BasePluginContainer,), body)


Current = container("current", "1.0")
NewerMinor = container("newer_minor", "1.7")
NextMajor = container("next_major", "2.0")
Unversioned = container("unversioned", None)
Malformed = container("malformed", "one")
"""


@pytest.fixture
def group(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An entry point group of installed plugins declaring various plugin API versions."""
    module = f"api_plugins_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{module}.py").write_text(PLUGINS)
    names = ("current", "newer_minor", "next_major", "unversioned", "malformed")
    classes = ("Current", "NewerMinor", "NextMajor", "Unversioned", "Malformed")
    targets = {n: f"{module}:{c}" for n, c in zip(names, classes, strict=True)}
    return install_plugins(tmp_path, monkeypatch, targets)


def test_core_speaks_plugin_api_1() -> None:
    assert PLUGIN_API_VERSION == "1.0"


def test_plugins_built_for_this_major_version_load(
    container: CoreContainer, group: str, caplog: pytest.LogCaptureFixture
) -> None:
    registry = IntegrationRegistry(container, group=group)
    with caplog.at_level(logging.WARNING, logger="leadbridge.integrations"):
        assert registry.names() == ["current", "newer_minor"]
    assert registry.get("current").plugin_api == "1.0"


def test_a_plugin_built_for_another_major_version_is_refused_naming_both(
    container: CoreContainer, group: str, caplog: pytest.LogCaptureFixture
) -> None:
    registry = IntegrationRegistry(container, group=group)
    with caplog.at_level(logging.WARNING, logger="leadbridge.integrations"):
        errors = {e.name: e.error for e in registry.errors}  # logged, not raised
    assert "plugin API 2.0" in errors["next_major"]
    assert f"plugin API {PLUGIN_API_VERSION}" in errors["next_major"]
    assert "'next_major'" in errors["next_major"]
    assert any("next_major" in r.getMessage() and "2.0" in r.getMessage() for r in caplog.records)
    with pytest.raises(ConfigurationError, match=r"next_major.*2\.0.*1\.0"):
        registry.get("next_major")


def test_a_plugin_declaring_no_or_a_malformed_version_is_refused(
    container: CoreContainer, group: str
) -> None:
    errors = {e.name: e.error for e in IntegrationRegistry(container, group=group).errors}
    assert "declares no plugin API version" in errors["unversioned"]
    assert "plugin_api = providers.Object('1.0')" in errors["unversioned"]
    assert "'one'" in errors["malformed"]
    assert "MAJOR.MINOR" in errors["malformed"]


def test_installed_plugins_declare_the_version_they_were_built_for(
    registry: IntegrationRegistry,
) -> None:
    assert registry.get("example").plugin_api == "1.0"
