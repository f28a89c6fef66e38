from __future__ import annotations

import pytest

from leadbridge import CoreContainer, ValidationError
from leadbridge.integrations import Direction, Feature


async def test_livestorm_is_discovered_and_proposes_the_default_mapping(
    container: CoreContainer,
) -> None:
    await container.custom_field_service().define("job_title", "text")
    registry = container.integration_registry()
    assert "livestorm" in registry.names()
    assert not [e for e in registry.errors if e.name == "livestorm"]
    assert registry.get("livestorm").plugin_api == "1.0"  # built for plugin API 1
    integration = registry.get("livestorm").integration
    assert Feature.SYNC_PULL in integration.features
    assert integration.icon_bytes().startswith(b"<svg")

    settings = await container.integration_settings_service().get("livestorm")
    people = settings.mappings["people"]
    mapped = {(m.internal_field, m.integration_field, m.direction) for m in people}
    assert {
        ("email", "email", Direction.BIDIRECTIONAL),
        ("first_name", "first_name", Direction.BIDIRECTIONAL),
        ("last_name", "last_name", Direction.BIDIRECTIONAL),
        ("company", "company", Direction.BIDIRECTIONAL),
        ("job_title", "job_title", Direction.BIDIRECTIONAL),
    } <= mapped
    assert settings.settings["requests_per_second"] == 5.0
    assert settings.settings["quota_reserve"] == 500


async def test_settings_and_credentials_validated_and_secret_kept(
    container: CoreContainer,
) -> None:
    service = container.integration_settings_service()
    with pytest.raises(ValidationError, match="requests_per_second"):
        await service.configure("livestorm", settings={"requests_per_second": -1})
    stored = await service.configure(
        "livestorm",
        settings={"base_url": "http://127.0.0.1:9/v1", "quota_reserve": 100},
        credentials={"api_token": "ls-token-SECRET"},
        enabled=True,
    )
    assert stored.credentials_set and stored.enabled
    assert "ls-token-SECRET" not in repr(stored) and "ls-token-SECRET" not in str(stored.to_dict())
    assert (await service.credentials("livestorm"))["api_token"] == "ls-token-SECRET"
