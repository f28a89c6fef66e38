from __future__ import annotations

from collections.abc import Iterator

import pytest
from leadbridge_example import SEEN_CONTACTS

from leadbridge import CoreContainer
from leadbridge.integrations import IntegrationRegistry, IntegrationSettingsService


@pytest.fixture(autouse=True)
def _forget_seen_contacts() -> Iterator[None]:
    SEEN_CONTACTS.clear()
    yield
    SEEN_CONTACTS.clear()


@pytest.fixture
def registry(container: CoreContainer) -> IntegrationRegistry:
    return container.integration_registry()


@pytest.fixture
def service(container: CoreContainer) -> IntegrationSettingsService:
    return container.integration_settings_service()
