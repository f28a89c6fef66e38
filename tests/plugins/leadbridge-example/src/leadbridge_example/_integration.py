from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from typing_extensions import override

from leadbridge import FieldType
from leadbridge.integrations import (
    BaseIntegration,
    Direction,
    Feature,
    IntegrationField,
    ObjectSpec,
)

READ_ONLY = frozenset({Direction.TO_INTERNAL})


class ExampleCredentials(BaseModel):
    model_config = ConfigDict(extra="forbid")

    api_key: SecretStr
    account: str = "main"


class ExampleSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    requests_per_second: float = Field(
        default=5.0, gt=0, le=50, description="Calls per second the client allows itself."
    )
    sync_deleted: bool = Field(default=False, description="Delete contacts the CRM deleted.")
    tags: list[str] = Field(default_factory=list, description="Tags every synced contact gets.")
    region: Literal["eu", "us"] = Field(default="eu", description="Where the CRM keeps the data.")


class ExampleIntegration(BaseIntegration):
    """People and leads of the Example CRM (a test fixture)."""

    name = "example"
    display_name = "Example CRM"
    description = "People and leads from the Example CRM."
    icon = "leadbridge_example:icon.svg"
    features = frozenset({Feature.SYNC_PULL, Feature.SYNC_PUSH, Feature.SEGMENT_FILTERS})
    credentials_schema = ExampleCredentials
    settings_schema = ExampleSettings

    @override
    def objects(self) -> Sequence[ObjectSpec]:
        return [
            ObjectSpec(
                "people",
                "People",
                fields=(
                    IntegrationField(
                        "email", "Email", FieldType.EMAIL, required=True, unique_identifier=True
                    ),
                    IntegrationField("firstName", "First name", FieldType.TEXT),
                    IntegrationField("last_name", "Last name", FieldType.TEXT),
                    IntegrationField("website", "Website", FieldType.URL),
                    IntegrationField("phone", "Phone", FieldType.PHONE),
                    IntegrationField("score", "Score", FieldType.NUMBER, directions=READ_ONLY),
                    IntegrationField("vip", "VIP", FieldType.BOOLEAN),
                    IntegrationField("birthday", "Birthday", FieldType.DATE),
                    IntegrationField(
                        "last_seen_at", "Last seen", FieldType.DATETIME, directions=READ_ONLY
                    ),
                    IntegrationField("plan", "Plan", FieldType.SELECT),
                    IntegrationField("interests", "Interests", FieldType.MULTISELECT),
                ),
            ),
            ObjectSpec(
                "leads",
                "Leads",
                fields=(
                    IntegrationField(
                        "email", "Email", FieldType.EMAIL, required=True, unique_identifier=True
                    ),
                    IntegrationField("source", "Source", FieldType.TEXT, required=True),
                ),
            ),
        ]
