"""LeadBridge core: an embeddable marketing contact hub that syncs with third-party systems."""

from ._crypto import SecretBox
from ._errors import (
    ConfigurationError,
    ConflictError,
    LeadBridgeError,
    NotFoundError,
    ValidationError,
)
from ._version import __version__
from .contacts import (
    BulkUpsertResult,
    ChangeLogService,
    Contact,
    ContactPage,
    ContactService,
    CustomFieldService,
    FieldSpec,
    FieldType,
)
from .container import CoreContainer, shutdown, start
from .events import Event, EventBus
from .integrations import PLUGIN_API_VERSION
from .points import BasePointActionType, BaseTriggerEvent, PointsService
from .segments import (
    BaseSegmentFilter,
    FilterDictionary,
    RebuildResult,
    Segment,
    SegmentService,
)
from .settings import Settings
from .tokens import ApiToken, Scope, TokenService

__all__ = [
    "PLUGIN_API_VERSION",
    "ApiToken",
    "BasePointActionType",
    "BaseSegmentFilter",
    "BaseTriggerEvent",
    "BulkUpsertResult",
    "ChangeLogService",
    "ConfigurationError",
    "ConflictError",
    "Contact",
    "ContactPage",
    "ContactService",
    "CoreContainer",
    "CustomFieldService",
    "Event",
    "EventBus",
    "FieldSpec",
    "FieldType",
    "FilterDictionary",
    "LeadBridgeError",
    "NotFoundError",
    "PointsService",
    "RebuildResult",
    "Scope",
    "SecretBox",
    "Segment",
    "SegmentService",
    "Settings",
    "TokenService",
    "ValidationError",
    "__version__",
    "shutdown",
    "start",
]
