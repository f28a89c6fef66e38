"""SyncService resolves integration names through the plugin registry and stored settings."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from dependency_injector import containers, providers
from typing_extensions import override

from leadbridge import ConfigurationError, CoreContainer, FieldType, NotFoundError
from leadbridge.integrations import (
    BaseIntegration,
    Direction,
    FieldMapping,
    IntegrationField,
    IntegrationSettingsService,
    LoadedIntegration,
    ObjectSpec,
)
from leadbridge.sync import RegistryTargetResolver, SyncService, SyncStatus
from leadbridge.testing import MEMORY_FIELDS, MEMORY_OBJECT, MemoryIntegration

from .conftest import make_engine, seeded


class MemoryPlugin(BaseIntegration):
    """The memory integration dressed as an installed plugin."""

    name = "memory"
    display_name = "Memory"

    @override
    def objects(self) -> Sequence[ObjectSpec]:
        return [
            ObjectSpec(
                MEMORY_OBJECT,
                "People",
                fields=tuple(
                    IntegrationField(
                        remote, remote, FieldType(kind), unique_identifier=remote == "emailAddress"
                    )
                    for remote, (_internal, kind) in MEMORY_FIELDS.items()
                ),
            )
        ]


class OneRegistry:
    """A registry with one mounted plugin (entry points cannot be installed by a test)."""

    def __init__(self, remote: MemoryIntegration | None) -> None:
        container = containers.DynamicContainer()
        if remote is not None:
            container.exchange = providers.Object(remote.exchange())
        self.loaded = LoadedIntegration("memory", MemoryPlugin(), container)

    def get(self, name: str) -> LoadedIntegration:
        if name != "memory":
            raise NotFoundError(f"integration {name!r} does not exist")
        return self.loaded


def _service(
    store: CoreContainer, remote: MemoryIntegration | None
) -> tuple[SyncService, IntegrationSettingsService]:
    registry = OneRegistry(remote)
    settings = IntegrationSettingsService(
        store.session_factory(),
        store.secret_box(),
        registry,
        store.custom_field_service(),  # type: ignore[arg-type]
    )
    resolver = RegistryTargetResolver(registry, settings)  # type: ignore[arg-type]
    return SyncService(make_engine(store), resolver), settings


async def test_start_by_name_uses_the_stored_settings(store: CoreContainer) -> None:
    remote = seeded(6)
    service, settings = _service(store, remote)
    with pytest.raises(ConfigurationError, match="'memory' is disabled"):
        await service.start("memory")

    await settings.configure("memory", enabled=True, conflict_winner="integration")
    await settings.set_mapping(
        "memory",
        MEMORY_OBJECT,
        [
            FieldMapping("email", "emailAddress", Direction.BIDIRECTIONAL),
            FieldMapping("first_name", "firstName", Direction.TO_INTERNAL),
        ],
    )
    result = await service.start("memory", trigger="webhook")
    assert result.status is SyncStatus.SUCCEEDED and result.counters.created == 6
    ann = await store.contact_service().get_by_email("user1@example.com")
    assert (ann.first_name, ann.last_name) == ("First1", None)  # only mapped fields
    run = await store.sync_run_service().get(result.run_id or 0)
    assert run.trigger == "webhook"


async def test_an_integration_without_an_exchange_does_not_sync(store: CoreContainer) -> None:
    service, _settings = _service(store, None)
    with pytest.raises(ConfigurationError, match="'memory' does not sync"):
        await service.start("memory")
    with pytest.raises(NotFoundError, match="'nope' does not exist"):
        await service.start("nope")


async def test_the_container_resolves_installed_plugins(store: CoreContainer) -> None:
    # The example plugin of the test environment is installed but has no exchange.
    with pytest.raises(ConfigurationError, match="'example' does not sync"):
        await store.sync_service().start("example")
