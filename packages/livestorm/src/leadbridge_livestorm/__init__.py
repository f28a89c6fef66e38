"""Livestorm webinars for LeadBridge."""

from ._container import LivestormContainer
from ._jsonapi import (
    JSONAPI_MEDIA_TYPE,
    ApiError,
    JsonApiModel,
    Page,
    PageMeta,
    Resource,
    ResourceIdentifier,
    Timestamp,
    parse_timestamp,
    to_timestamp,
)
from ._models import (
    Event,
    FieldAnswer,
    FieldValue,
    Job,
    JobTask,
    Organization,
    Person,
    RegistrantDetail,
    RegistrationFormField,
    ReplayViewDetail,
    Session,
    Webhook,
)
from ._signing import WEBHOOK_SIGNATURE_HEADER, sign_webhook, signature_header_value
from ._version import __version__

__all__ = [
    "JSONAPI_MEDIA_TYPE",
    "WEBHOOK_SIGNATURE_HEADER",
    "ApiError",
    "Event",
    "FieldAnswer",
    "FieldValue",
    "Job",
    "JobTask",
    "JsonApiModel",
    "LivestormContainer",
    "Organization",
    "Page",
    "PageMeta",
    "Person",
    "RegistrantDetail",
    "RegistrationFormField",
    "ReplayViewDetail",
    "Resource",
    "ResourceIdentifier",
    "Session",
    "Timestamp",
    "Webhook",
    "__version__",
    "parse_timestamp",
    "sign_webhook",
    "signature_header_value",
    "to_timestamp",
]
