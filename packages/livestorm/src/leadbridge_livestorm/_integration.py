"""What the Livestorm integration declares to core: features, schemas, objects, fields."""

from __future__ import annotations

from collections.abc import Sequence

import pydantic
from typing_extensions import override

from leadbridge.contacts import FieldType
from leadbridge.integrations import (
    BaseIntegration,
    Direction,
    Feature,
    IntegrationField,
    ObjectSpec,
)

from ._client import DEFAULT_BASE_URL


class LivestormCredentials(pydantic.BaseModel):
    """A private API token (sent raw) or an OAuth2 access token, and the webhook secrets.

    ``webhook_secret`` checks signed deliveries; ``webhook_url_secret_sha256`` is the digest
    of the receiver's URL secret (``leadbridge livestorm webhooks rotate-url-secret``).
    """

    model_config = pydantic.ConfigDict(extra="forbid")

    api_token: pydantic.SecretStr | None = None
    oauth_access_token: pydantic.SecretStr | None = None
    webhook_secret: pydantic.SecretStr | None = None
    webhook_url_secret_sha256: pydantic.SecretStr | None = None

    @pydantic.field_validator("api_token", "oauth_access_token")
    @classmethod
    def _well_formed(cls, value: pydantic.SecretStr | None) -> pydantic.SecretStr | None:
        # Refused when configured, not at the first sync; messages never repeat the value.
        if value is None:
            return None
        text = value.get_secret_value()
        if not text.strip():
            raise ValueError("is empty")
        if text.lower().startswith("bearer "):
            raise ValueError(
                "starts with 'Bearer ': give the token alone (LeadBridge sends the header)"
            )
        if text != text.strip() or any(c.isspace() or not c.isprintable() for c in text):
            raise ValueError("holds spaces, line breaks or control characters")
        return value


class RegistrationPush(pydantic.BaseModel):
    """Register the contacts of ``segment`` (an alias) to Livestorm session ``session_id``."""

    model_config = pydantic.ConfigDict(extra="forbid")

    segment: str = pydantic.Field(min_length=1)
    session_id: str = pydantic.Field(min_length=1)


class LivestormSettings(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")

    base_url: pydantic.HttpUrl = pydantic.HttpUrl(DEFAULT_BASE_URL)
    #: Event ids to sync; empty means every event of the workspace.
    events: list[str] = []
    #: The client's burst limit (Livestorm allows 5); ``0`` turns it off (a fake server).
    requests_per_second: float = pydantic.Field(default=5.0, ge=0, le=50)
    #: Calls of the monthly quota a sync leaves unused.
    quota_reserve: int = pydantic.Field(default=500, ge=0)
    #: Seconds one request may spend waiting out 429s before the run stops as ``partial``.
    rate_limit_budget: float = pydantic.Field(default=120.0, ge=0, le=3600)
    import_team_members: bool = False
    #: An incremental pull lists the sessions starting at most this many days before the
    #: newest Livestorm time it has seen (and every later one); ``0`` lists them all.
    session_window_days: int = pydantic.Field(default=90, ge=0)
    registration_push: list[RegistrationPush] = []


_ANY = frozenset(Direction)
_READ = frozenset({Direction.TO_INTERNAL})


class LivestormIntegration(BaseIntegration):
    """Livestorm webinars: people ↔ contacts, registrations, attendance."""

    name = "livestorm"
    display_name = "Livestorm"
    description = (
        "Webinar registrants and attendees from Livestorm; registers segments to sessions."
    )
    icon = "leadbridge_livestorm:icon.svg"
    features = frozenset(
        {
            Feature.SYNC_PULL,
            Feature.SYNC_PUSH,
            Feature.SEGMENT_FILTERS,
            Feature.POINT_ACTIONS,
            Feature.WEBHOOKS,
        }
    )
    credentials_schema = LivestormCredentials
    settings_schema = LivestormSettings

    @override
    def objects(self) -> Sequence[ObjectSpec]:
        # Registration answers travel with a registration (push) and come back with each
        # person (pull); the fields below are Livestorm's common form fields, found by id.
        return [
            ObjectSpec(
                "people",
                "People",
                fields=(
                    IntegrationField(
                        "email", "Email", FieldType.EMAIL, required=True, unique_identifier=True
                    ),
                    IntegrationField("first_name", "First name", FieldType.TEXT),
                    IntegrationField("last_name", "Last name", FieldType.TEXT),
                    IntegrationField("company", "Company", FieldType.TEXT, directions=_ANY),
                    IntegrationField("job_title", "Job title", FieldType.TEXT, directions=_ANY),
                    IntegrationField("phone", "Phone", FieldType.PHONE, directions=_ANY),
                    IntegrationField("timezone", "Time zone", FieldType.TEXT, directions=_READ),
                ),
            )
        ]
