from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from leadbridge import ConfigurationError, CoreContainer, SecretBox, ValidationError
from leadbridge.integrations import (
    Direction,
    FieldMapping,
    IntegrationSettingsService,
    UnknownIntegrationError,
)

SECRET = "sk-SECRET-8f3a91"


async def _raw_row(container: CoreContainer) -> dict[str, object]:
    async with container.engine().connect() as conn:
        row = (
            (await conn.execute(text("SELECT * FROM integrations WHERE name = 'example'")))
            .mappings()
            .one()
        )
    return dict(row)


async def test_never_configured_integration_has_defaults(
    service: IntegrationSettingsService,
) -> None:
    stored = await service.get("example")
    assert stored.configured is False and stored.enabled is False
    assert stored.credentials_set is False
    assert stored.settings == {
        "requests_per_second": 5.0,
        "sync_deleted": False,
        "tags": [],
        "region": "eu",
    }
    assert stored.conflict_winner == "internal" and stored.first_sync_from is None
    # The proposed default mapping: same-named fields (firstName matches first_name).
    assert {(m.internal_field, m.integration_field) for m in stored.mappings["people"]} == {
        ("email", "email"),
        ("first_name", "firstName"),
        ("last_name", "last_name"),
        ("phone", "phone"),
    }
    # Leads need a "source" nothing is named like: no valid default to propose.
    assert "leads" not in stored.mappings
    assert await service.credentials("example") == {}


async def test_settings_round_trip_with_encrypted_credentials(
    container: CoreContainer, service: IntegrationSettingsService
) -> None:
    since = datetime(2024, 1, 1, tzinfo=UTC)
    saved = await service.configure(
        "example",
        settings={"requests_per_second": 2, "tags": ["webinar"]},
        credentials={"api_key": SECRET},
        enabled=True,
        conflict_winner="integration",
        first_sync_from=since,
    )
    stored = await service.get("example")
    assert stored == saved
    assert stored.configured and stored.enabled and stored.credentials_set
    assert stored.settings == {
        "requests_per_second": 2.0,
        "sync_deleted": False,
        "tags": ["webinar"],
        "region": "eu",
    }
    assert stored.conflict_winner == "integration" and stored.first_sync_from == since
    assert stored.updated_at is not None
    assert await service.credentials("example") == {"api_key": SECRET, "account": "main"}

    raw = await _raw_row(container)
    assert SECRET not in repr(raw)
    assert isinstance(raw["credentials"], str)
    assert SECRET in container.secret_box().decrypt(raw["credentials"])
    # Reading settings never shows the credentials, in any form.
    for shown in (repr(stored), str(stored.to_dict()), repr(service), repr(container.secret_box())):
        assert SECRET not in shown
    assert "credentials" not in stored.to_dict()


async def test_configure_merges_and_keeps_the_rest(service: IntegrationSettingsService) -> None:
    await service.configure(
        "example", settings={"requests_per_second": 2}, credentials={"api_key": SECRET}
    )
    await service.configure("example", settings={"sync_deleted": True})
    await service.configure("example", credentials={"account": "eu"})
    stored = await service.get("example")
    assert stored.settings["requests_per_second"] == 2.0 and stored.settings["sync_deleted"]
    assert await service.credentials("example") == {"api_key": SECRET, "account": "eu"}
    await service.configure("example", settings={"requests_per_second": None})  # back to default
    assert (await service.get("example")).settings["requests_per_second"] == 5.0
    await service.configure("example", enabled=False)
    assert (await service.get("example")).enabled is False


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        (
            {"settings": {"requests_per_second": "fast"}},
            "settings.requests_per_second",
            "settings.requests_per_second: Input should be a valid number",
        ),
        (
            {"settings": {"requests_per_second": 0}},
            "settings.requests_per_second",
            "settings.requests_per_second: Input should be greater than 0",
        ),
        ({"settings": {"speed": 3}}, "settings.speed", "settings.speed: example has no such"),
        ({"credentials": {"token": "x"}}, "credentials.token", "credentials.token: example has"),
        ({"credentials": {"account": "eu"}}, "credentials.api_key", "credentials.api_key: Field"),
        ({"enabled": True}, "credentials.api_key", "credentials.api_key: Field required"),
        ({"conflict_winner": "nobody"}, "conflict_winner", "conflict_winner must be"),
        (
            {"first_sync_from": datetime(2024, 1, 1)},
            "first_sync_from",
            "first_sync_from must be a timezone-aware",
        ),
    ],
)
async def test_bad_configuration_is_refused_and_writes_nothing(
    service: IntegrationSettingsService, kwargs: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as info:
        await service.configure("example", **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field
    assert str(info.value).startswith(message)
    assert (await service.get("example")).configured is False


async def test_bad_credentials_never_echo_the_secret(service: IntegrationSettingsService) -> None:
    with pytest.raises(ValidationError) as info:
        await service.configure("example", credentials={"api_key": [SECRET]})
    assert info.value.field == "credentials.api_key"
    assert SECRET not in str(info.value) and SECRET not in repr(info.value.value)
    assert info.value.__cause__ is None and info.value.__context__ is None


async def test_unknown_integration_is_refused_everywhere(
    service: IntegrationSettingsService,
) -> None:
    calls = [
        service.get("nope"),
        service.configure("nope", enabled=True),
        service.credentials("nope"),
        service.update_credentials("nope", {"a": 1}),
        service.set_mapping("nope", "people", [FieldMapping("email", "email")]),
    ]
    for call in calls:
        with pytest.raises(UnknownIntegrationError) as info:
            await call
        assert info.value.field == "integration"


async def test_update_credentials_keeps_rotated_tokens(service: IntegrationSettingsService) -> None:
    await service.configure("example", credentials={"api_key": SECRET})
    token = {"access_token": "at-1", "refresh_token": "rt-1", "expires_at": 1700000000}
    await service.update_credentials("example", {"oauth_token": token})
    # A later configure validates the schema's keys and keeps the token as it is.
    await service.configure("example", credentials={"account": "eu"}, enabled=True)
    creds = await service.credentials("example")
    assert creds["oauth_token"] == token and creds["api_key"] == SECRET
    await service.update_credentials("example", {"oauth_token": None})
    assert "oauth_token" not in await service.credentials("example")
    with pytest.raises(ValidationError, match="JSON"):
        await service.update_credentials("example", {"oauth_token": object()})


async def test_changed_secret_key_is_a_clear_configuration_error(
    container: CoreContainer, service: IntegrationSettingsService
) -> None:
    from cryptography.fernet import Fernet

    await service.configure("example", credentials={"api_key": SECRET})
    other = IntegrationSettingsService(
        container.session_factory(),
        SecretBox(Fernet.generate_key().decode()),
        container.integration_registry(),
    )
    with pytest.raises(ConfigurationError, match="LEADBRIDGE_SECRET_KEY changed"):
        await other.credentials("example")


async def test_first_save_stores_the_default_mapping(service: IntegrationSettingsService) -> None:
    await service.configure("example", settings={"sync_deleted": True})
    stored = await service.get("example")
    assert FieldMapping("email", "email", Direction.BIDIRECTIONAL) in stored.mappings["people"]
