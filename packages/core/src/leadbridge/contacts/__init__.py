"""Contacts: core columns, typed custom fields, tags and the change log."""

from ._changelog import (
    CONTACT_CREATED,
    CONTACT_DELETED,
    ChangeLogService,
    ContactChange,
    record_changes,
)
from ._fields import CORE_FIELDS, FieldSpec, FieldType, normalize_value
from ._models import (
    ChangeLogCursorRow,
    ContactChangeRow,
    ContactRow,
    ContactTagRow,
    CustomFieldRow,
    TagRow,
)
from ._service import (
    BulkUpsertResult,
    Contact,
    ContactPage,
    ContactService,
    ContactUpdate,
    CustomFieldService,
    RowError,
    email_key,
    ensure_tags,
    load_custom_fields,
)

__all__ = [
    "CONTACT_CREATED",
    "CONTACT_DELETED",
    "CORE_FIELDS",
    "BulkUpsertResult",
    "ChangeLogCursorRow",
    "ChangeLogService",
    "Contact",
    "ContactChange",
    "ContactChangeRow",
    "ContactPage",
    "ContactRow",
    "ContactService",
    "ContactTagRow",
    "ContactUpdate",
    "CustomFieldRow",
    "CustomFieldService",
    "FieldSpec",
    "FieldType",
    "RowError",
    "TagRow",
    "email_key",
    "ensure_tags",
    "load_custom_fields",
    "normalize_value",
    "record_changes",
]
