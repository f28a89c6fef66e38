"""Livestorm webinars for LeadBridge."""

from ._container import MIGRATIONS, LivestormContainer
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
from ._tables import (
    EventRow,
    LivestormBase,
    RegistrationRow,
    SessionRow,
    WebhookDeliveryRow,
)
from ._version import __version__

__all__ = [
    "JSONAPI_MEDIA_TYPE",
    "MIGRATIONS",
    "WEBHOOK_SIGNATURE_HEADER",
    "ApiError",
    "Event",
    "EventRow",
    "FieldAnswer",
    "FieldValue",
    "Job",
    "JobTask",
    "JsonApiModel",
    "LivestormBase",
    "LivestormContainer",
    "Organization",
    "Page",
    "PageMeta",
    "Person",
    "RegistrantDetail",
    "RegistrationFormField",
    "RegistrationRow",
    "ReplayViewDetail",
    "Resource",
    "ResourceIdentifier",
    "Session",
    "SessionRow",
    "Timestamp",
    "Webhook",
    "WebhookDeliveryRow",
    "__version__",
    "parse_timestamp",
    "sign_webhook",
    "signature_header_value",
    "to_timestamp",
]
